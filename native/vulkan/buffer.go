package vulkan

import (
	"fmt"
	"unsafe"
)

// Buffer is a storage buffer in host-visible, coherent memory, mapped for
// its whole life: the host writes and reads it in place.
type Buffer struct {
	d    *Device
	buf  uint64
	mem  uint64
	size uint64
	ptr  unsafe.Pointer
}

// NewBuffer allocates a buffer of n float32s, zeroed.
func (d *Device) NewBuffer(n int) (*Buffer, error) {
	a := d.api
	b := &Buffer{d: d, size: uint64(max(n, 1)) * 4}
	bci := &bufferCreateInfo{sType: sTypeBufferCreateInfo, size: b.size, usage: bufferUsageStorage}
	if err := check("vkCreateBuffer", a.createBuffer(d.device, bci, nil, &b.buf)); err != nil {
		return nil, err
	}
	var req memoryRequirements
	a.getBufferMemoryRequirements(d.device, b.buf, &req)
	// Memory the host maps and the device reads at full speed where there
	// is such (integrated GPUs, lavapipe, resizable BAR), else any
	// host-visible coherent memory.
	mapped := uint32(memoryHostVisible | memoryHostCoherent)
	var r int32 = -1
	for _, want := range []uint32{mapped | memoryDeviceLocal, mapped} {
		for i, t := range d.memTypes {
			if req.memoryTypeBits&(1<<i) == 0 || t.flags&want != want {
				continue
			}
			mai := &memoryAllocateInfo{sType: sTypeMemoryAllocateInfo, allocationSize: req.size, memoryTypeIndex: uint32(i)}
			if r = a.allocateMemory(d.device, mai, nil, &b.mem); r == 0 {
				break
			}
		}
		if r == 0 {
			break
		}
	}
	if r != 0 {
		b.Free()
		if r == -1 {
			return nil, fmt.Errorf("vulkan: %s has no host-visible coherent memory for buffers", d.Info.Name)
		}
		return nil, check(fmt.Sprintf("vkAllocateMemory (%d bytes)", req.size), r)
	}
	if err := check("vkBindBufferMemory", a.bindBufferMemory(d.device, b.buf, b.mem, 0)); err != nil {
		b.Free()
		return nil, err
	}
	if err := check("vkMapMemory", a.mapMemory(d.device, b.mem, 0, wholeSize, 0, &b.ptr)); err != nil {
		b.Free()
		return nil, err
	}
	clear(b.Floats()) // device memory comes uninitialised
	return b, nil
}

// Floats is the buffer's memory as float32s.
func (b *Buffer) Floats() []float32 { return unsafe.Slice((*float32)(b.ptr), b.size/4) }

// Len is the buffer's length in float32s.
func (b *Buffer) Len() int { return int(b.size / 4) }

// Free releases the buffer and its memory (unmapping it).
func (b *Buffer) Free() {
	a := b.d.api
	if b.buf != 0 {
		a.destroyBuffer(b.d.device, b.buf, nil)
		b.buf = 0
	}
	if b.mem != 0 {
		a.freeMemory(b.d.device, b.mem, nil)
		b.mem = 0
	}
	b.ptr = nil
}
