package vulkan

import (
	"fmt"
	"math"
	"unsafe"
)

// Recorder records many dispatches into one command buffer, each with its
// own descriptor set and a barrier after it, and submits them at once: a
// whole training step or attack iteration is one submission, and the data
// stays on the device in between.
type Recorder struct {
	d       *Device
	pool    uint64
	maxSets int
	sets    int
	open    bool
}

// maxBindings is the most storage buffers one dispatch binds.
const maxBindings = 4

// NewRecorder prepares a recorder for up to maxDispatches per submission.
func (d *Device) NewRecorder(maxDispatches int) (*Recorder, error) {
	ps := &descriptorPoolSize{typ: descriptorTypeStorageBuffer, descriptorCount: uint32(maxDispatches * maxBindings)}
	dpi := &descriptorPoolCreateInfo{sType: sTypeDescriptorPoolCreateInfo, maxSets: uint32(maxDispatches), poolSizeCount: 1, pPoolSizes: ps}
	r := &Recorder{d: d, maxSets: maxDispatches}
	if err := check("vkCreateDescriptorPool", d.api.createDescriptorPool(d.device, dpi, nil, &r.pool)); err != nil {
		return nil, err
	}
	return r, nil
}

// Begin starts a submission; it holds the device until Submit.
func (r *Recorder) Begin() error {
	d, a := r.d, r.d.api
	d.mu.Lock()
	if err := check("vkResetDescriptorPool", a.resetDescriptorPool(d.device, r.pool, 0)); err != nil {
		d.mu.Unlock()
		return err
	}
	if err := check("vkResetCommandBuffer", a.resetCommandBuffer(d.cmd, 0)); err != nil {
		d.mu.Unlock()
		return err
	}
	bi := &commandBufferBeginInfo{sType: sTypeCommandBufferBeginInfo, flags: commandBufferUsageOneTimeSubmit}
	if err := check("vkBeginCommandBuffer", a.beginCommandBuffer(d.cmd, bi)); err != nil {
		d.mu.Unlock()
		return err
	}
	r.sets, r.open = 0, true
	return nil
}

// Dispatch records p over bufs with push constants and threads invocations
// in x (the shaders' local size is given by local), followed by a barrier.
func (r *Recorder) Dispatch(p *Pipeline, bufs []*Buffer, push []uint32, groups [3]uint32) error {
	if !r.open {
		return fmt.Errorf("vulkan: Dispatch outside Begin/Submit")
	}
	if len(bufs) != p.buffers || len(push)*4 != p.push || len(bufs) > maxBindings {
		return fmt.Errorf("vulkan: pipeline takes %d buffers and %d bytes of constants, got %d and %d", p.buffers, p.push, len(bufs), 4*len(push))
	}
	if r.sets == r.maxSets {
		return fmt.Errorf("vulkan: more than %d dispatches in one submission", r.maxSets)
	}
	d, a := r.d, r.d.api
	var set uint64
	dai := &descriptorSetAllocateInfo{sType: sTypeDescriptorSetAllocateInfo, descriptorPool: r.pool, descriptorSetCount: 1, pSetLayouts: &p.setLay}
	if err := check("vkAllocateDescriptorSets", a.allocateDescriptorSets(d.device, dai, &set)); err != nil {
		return err
	}
	r.sets++
	infos := make([]descriptorBufferInfo, len(bufs))
	writes := make([]writeDescriptorSet, len(bufs))
	for i, b := range bufs {
		infos[i] = descriptorBufferInfo{buffer: b.buf, rng: wholeSize}
		writes[i] = writeDescriptorSet{sType: sTypeWriteDescriptorSet, dstSet: set, dstBinding: uint32(i), descriptorCount: 1,
			descriptorType: descriptorTypeStorageBuffer, pBufferInfo: &infos[i]}
	}
	a.updateDescriptorSets(d.device, uint32(len(writes)), &writes[0], 0, nil)
	a.cmdBindPipeline(d.cmd, pipelineBindPointCompute, p.pipeline)
	a.cmdBindDescriptorSets(d.cmd, pipelineBindPointCompute, p.layout, 0, 1, &set, 0, nil)
	if len(push) > 0 {
		pc := append([]uint32(nil), push...)
		a.cmdPushConstants(d.cmd, p.layout, shaderStageCompute, 0, uint32(p.push), unsafe.Pointer(&pc[0]))
	}
	a.cmdDispatch(d.cmd, groups[0], groups[1], groups[2])
	mb := &memoryBarrier{sType: sTypeMemoryBarrier, srcAccessMask: accessShaderWrite, dstAccessMask: accessShaderRead | accessShaderWrite}
	a.cmdPipelineBarrier(d.cmd, pipelineStageComputeShader, pipelineStageComputeShader, 0, 1, mb, 0, nil, 0, nil)
	return nil
}

// Submit ends the command buffer, runs it and waits for the device.
func (r *Recorder) Submit() error {
	if !r.open {
		return fmt.Errorf("vulkan: Submit without Begin")
	}
	d, a := r.d, r.d.api
	defer d.mu.Unlock()
	r.open = false
	if err := check("vkEndCommandBuffer", a.endCommandBuffer(d.cmd)); err != nil {
		return err
	}
	cmd := d.cmd
	si := &submitInfo{sType: sTypeSubmitInfo, commandBufferCount: 1, pCommandBuffers: &cmd}
	if err := check("vkQueueSubmit", a.queueSubmit(d.queue, 1, si, 0)); err != nil {
		return err
	}
	return check("vkQueueWaitIdle", a.queueWaitIdle(d.queue))
}

// Abort abandons a recording after an error.
func (r *Recorder) Abort() {
	if r.open {
		r.open = false
		r.d.api.endCommandBuffer(r.d.cmd)
		r.d.mu.Unlock()
	}
}

// Close releases the recorder.
func (r *Recorder) Close() {
	r.Abort()
	if r.pool != 0 {
		r.d.api.destroyDescriptorPool(r.d.device, r.pool, nil)
		r.pool = 0
	}
}

// groups1D is the workgroup count for total invocations of 256.
func groups1D(total int) [3]uint32 { return [3]uint32{uint32((total + 255) / 256), 1, 1} }

// f32 is a float's bits, for push constants.
func f32(v float32) uint32 { return math.Float32bits(v) }
