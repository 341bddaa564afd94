// Package vulkan is TADD's GPU-assisted backend: Vulkan compute reached
// without cgo (the loader, libvulkan.so.1, is opened at run time with
// github.com/ebitengine/purego), compute shaders written in GLSL and
// compiled to SPIR-V with glslangValidator (shaders/, `go generate`).
//
// Net keeps a network on the device, where a training step is one
// submission (Train is train.Run on it) and an attack iteration two
// (Classifier); Kernels is the lighter kernel.Kernels whose GEMMs alone run
// on the device, for code that holds its models on the CPU.
//
// Vulkan runs on NVIDIA, AMD and Intel drivers, on Apple GPUs through
// MoltenVK, and on the CPU through Mesa's lavapipe, which is how the tests
// run it on machines without a GPU.
package vulkan

//go:generate sh -c "for f in shaders/*.comp; do glslangValidator -V --target-env vulkan1.1 -o ${f%.comp}.spv $f || exit 1; done"

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// Info describes one physical device.
type Info struct {
	Name string
	Type int // TypeDiscrete, TypeIntegrated, TypeCPU, ...
}

// TypeName says what kind of device t is.
func TypeName(t int) string {
	switch t {
	case TypeIntegrated:
		return "integrated GPU"
	case TypeDiscrete:
		return "discrete GPU"
	case TypeVirtual:
		return "virtual GPU"
	case TypeCPU:
		return "CPU (software Vulkan)"
	}
	return "other"
}

// IsGPU says whether the device is real GPU hardware rather than a
// software implementation on the CPU.
func (i Info) IsGPU() bool {
	return i.Type == TypeDiscrete || i.Type == TypeIntegrated || i.Type == TypeVirtual
}

func (i Info) String() string { return fmt.Sprintf("%s (%s)", i.Name, TypeName(i.Type)) }

// ErrNoDevice is returned when the loader works but offers no device with
// a compute queue (of the kind asked for).
var ErrNoDevice = errors.New("vulkan: no suitable device")

// Device is an open logical device with one compute queue. Its methods are
// safe for concurrent use; work is submitted one command at a time.
type Device struct {
	Info     Info
	api      *api
	instance uintptr
	physical uintptr
	device   uintptr
	queue    uintptr
	family   uint32
	memTypes []memoryType
	cmdPool  uint64
	cmd      uintptr

	mu sync.Mutex
}

type memoryType struct{ flags, heap uint32 }

// Open creates a device. With gpuOnly it takes only GPU hardware (what
// --device auto wants); otherwise the first device with a compute queue,
// preferring discrete, then integrated GPUs, then software devices such as
// lavapipe.
func Open(gpuOnly bool) (*Device, error) {
	a, err := load()
	if err != nil {
		return nil, err
	}
	appName := []byte("tadd\x00")
	app := &applicationInfo{sType: sTypeApplicationInfo, pApplicationName: &appName[0], pEngineName: &appName[0], apiVersion: apiVersion11}
	ici := &instanceCreateInfo{sType: sTypeInstanceCreateInfo, pApplicationInfo: app}
	d := &Device{api: a}
	if err := check("vkCreateInstance", a.createInstance(ici, nil, &d.instance)); err != nil {
		return nil, fmt.Errorf("%w (is a Vulkan driver installed? Debian: mesa-vulkan-drivers)", err)
	}
	if err := a.resolveInstance(d.instance); err != nil {
		return nil, err
	}
	var n uint32
	if err := check("vkEnumeratePhysicalDevices", a.enumeratePhysicalDevices(d.instance, &n, nil)); err != nil {
		d.Close()
		return nil, err
	}
	pds := make([]uintptr, max(n, 1))
	if n > 0 {
		if r := a.enumeratePhysicalDevices(d.instance, &n, &pds[0]); r != 0 && r != 5 { // 5: VK_INCOMPLETE
			d.Close()
			return nil, check("vkEnumeratePhysicalDevices", r)
		}
	}
	best, bestRank := -1, -1
	var infos []Info
	for i := range int(n) {
		info := physicalInfo(a, pds[i])
		infos = append(infos, info)
		if _, ok := computeFamily(a, pds[i]); !ok || (gpuOnly && !info.IsGPU()) {
			continue
		}
		rank := map[int]int{TypeDiscrete: 4, TypeIntegrated: 3, TypeVirtual: 2, TypeCPU: 1}[info.Type]
		if rank > bestRank {
			best, bestRank = i, rank
		}
	}
	if best < 0 {
		d.Close()
		if len(infos) == 0 {
			return nil, fmt.Errorf("%w: the loader lists no device", ErrNoDevice)
		}
		return nil, fmt.Errorf("%w among %v", ErrNoDevice, infos)
	}
	d.physical, d.Info = pds[best], infos[best]
	d.family, _ = computeFamily(a, d.physical)
	d.memTypes = memoryTypes(a, d.physical)
	prio := new(float32)
	*prio = 1
	qci := &deviceQueueCreateInfo{sType: sTypeDeviceQueueCreateInfo, queueFamilyIndex: d.family, queueCount: 1, pQueuePriorities: prio}
	dci := &deviceCreateInfo{sType: sTypeDeviceCreateInfo, queueCreateInfoCount: 1, pQueueCreateInfos: qci}
	if err := check("vkCreateDevice", a.createDevice(d.physical, dci, nil, &d.device)); err != nil {
		d.Close()
		return nil, err
	}
	a.getDeviceQueue(d.device, d.family, 0, &d.queue)
	cpi := &commandPoolCreateInfo{sType: sTypeCommandPoolCreateInfo, flags: commandPoolResetCommandBuffer, queueFamilyIndex: d.family}
	if err := check("vkCreateCommandPool", a.createCommandPool(d.device, cpi, nil, &d.cmdPool)); err != nil {
		d.Close()
		return nil, err
	}
	cai := &commandBufferAllocateInfo{sType: sTypeCommandBufferAllocateInfo, commandPool: d.cmdPool, commandBufferCount: 1}
	if err := check("vkAllocateCommandBuffers", a.allocateCommandBuffers(d.device, cai, &d.cmd)); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close releases the device and the instance.
func (d *Device) Close() {
	a := d.api
	if d.device != 0 {
		a.deviceWaitIdle(d.device)
		if d.cmdPool != 0 {
			a.destroyCommandPool(d.device, d.cmdPool, nil)
		}
		a.destroyDevice(d.device, nil)
		d.device = 0
	}
	if d.instance != 0 && a.destroyInstance != nil {
		a.destroyInstance(d.instance, nil)
		d.instance = 0
	}
}

// physicalInfo reads the name and type from VkPhysicalDeviceProperties
// (deviceType at byte 16, deviceName[256] at byte 20).
func physicalInfo(a *api, pd uintptr) Info {
	var props [1024]byte
	a.getPhysicalDeviceProperties(pd, &props[0])
	typ := *(*uint32)(unsafe.Pointer(&props[16]))
	name := props[20 : 20+256]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return Info{Name: string(name), Type: int(typ)}
}

// computeFamily returns the first queue family with compute.
func computeFamily(a *api, pd uintptr) (uint32, bool) {
	var n uint32
	a.getPhysicalDeviceQueueFamilyProperties(pd, &n, nil)
	if n == 0 {
		return 0, false
	}
	fams := make([]queueFamilyProperties, n)
	a.getPhysicalDeviceQueueFamilyProperties(pd, &n, &fams[0])
	for i, f := range fams[:n] {
		if f.queueFlags&queueCompute != 0 && f.queueCount > 0 {
			return uint32(i), true
		}
	}
	return 0, false
}

// memoryTypes decodes VkPhysicalDeviceMemoryProperties' memory types.
func memoryTypes(a *api, pd uintptr) []memoryType {
	var props [1024]byte
	a.getPhysicalDeviceMemoryProperties(pd, &props[0])
	n := *(*uint32)(unsafe.Pointer(&props[0]))
	var ts []memoryType
	for i := range min(n, 32) {
		off := 4 + 8*i
		ts = append(ts, memoryType{*(*uint32)(unsafe.Pointer(&props[off])), *(*uint32)(unsafe.Pointer(&props[off+4]))})
	}
	return ts
}
