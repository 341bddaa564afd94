package vulkan

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/ebitengine/purego"
)

// The subset of the Vulkan 1.1 C API that compute needs, declared by hand
// for amd64/arm64 (LP64): Go lays these structs out exactly as C does.
// Dispatchable handles (instance, physical device, device, queue, command
// buffer) are pointers; the others are 64-bit integers.

const (
	sTypeApplicationInfo            = 0
	sTypeInstanceCreateInfo         = 1
	sTypeDeviceQueueCreateInfo      = 2
	sTypeDeviceCreateInfo           = 3
	sTypeSubmitInfo                 = 4
	sTypeMemoryAllocateInfo         = 5
	sTypeBufferCreateInfo           = 12
	sTypeShaderModuleCreateInfo     = 16
	sTypePipelineShaderStageInfo    = 18
	sTypeComputePipelineCreateInfo  = 29
	sTypePipelineLayoutCreateInfo   = 30
	sTypeDescriptorSetLayoutInfo    = 32
	sTypeDescriptorPoolCreateInfo   = 33
	sTypeDescriptorSetAllocateInfo  = 34
	sTypeWriteDescriptorSet         = 35
	sTypeCommandPoolCreateInfo      = 39
	sTypeCommandBufferAllocateInfo  = 40
	sTypeCommandBufferBeginInfo     = 42
	sTypeMemoryBarrier              = 46
	descriptorTypeStorageBuffer     = 7
	shaderStageCompute              = 0x20
	pipelineBindPointCompute        = 1
	bufferUsageStorage              = 0x20
	memoryDeviceLocal               = 0x1
	memoryHostVisible               = 0x2
	memoryHostCoherent              = 0x4
	queueCompute                    = 0x2
	commandPoolResetCommandBuffer   = 0x2
	commandBufferUsageOneTimeSubmit = 0x1
	pipelineStageComputeShader      = 0x800
	accessShaderRead                = 0x20
	accessShaderWrite               = 0x40
	apiVersion11                    = 1<<22 | 1<<12
	wholeSize                       = ^uint64(0)

	// Physical device types.
	TypeOther      = 0
	TypeIntegrated = 1
	TypeDiscrete   = 2
	TypeVirtual    = 3
	TypeCPU        = 4
)

type applicationInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	pApplicationName   *byte
	applicationVersion uint32
	pEngineName        *byte
	engineVersion      uint32
	apiVersion         uint32
}

type instanceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	pApplicationInfo        *applicationInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
}

type queueFamilyProperties struct {
	queueFlags         uint32
	queueCount         uint32
	timestampValidBits uint32
	granularity        [3]uint32
}

type deviceQueueCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
	queueCount       uint32
	pQueuePriorities *float32
}

type deviceCreateInfo struct {
	sType                   uint32
	pNext                   unsafe.Pointer
	flags                   uint32
	queueCreateInfoCount    uint32
	pQueueCreateInfos       *deviceQueueCreateInfo
	enabledLayerCount       uint32
	ppEnabledLayerNames     unsafe.Pointer
	enabledExtensionCount   uint32
	ppEnabledExtensionNames unsafe.Pointer
	pEnabledFeatures        unsafe.Pointer
}

type bufferCreateInfo struct {
	sType                 uint32
	pNext                 unsafe.Pointer
	flags                 uint32
	size                  uint64
	usage                 uint32
	sharingMode           uint32
	queueFamilyIndexCount uint32
	pQueueFamilyIndices   unsafe.Pointer
}

type memoryRequirements struct {
	size           uint64
	alignment      uint64
	memoryTypeBits uint32
}

type memoryAllocateInfo struct {
	sType           uint32
	pNext           unsafe.Pointer
	allocationSize  uint64
	memoryTypeIndex uint32
}

type shaderModuleCreateInfo struct {
	sType    uint32
	pNext    unsafe.Pointer
	flags    uint32
	codeSize uintptr
	pCode    *uint32
}

type descriptorSetLayoutBinding struct {
	binding            uint32
	descriptorType     uint32
	descriptorCount    uint32
	stageFlags         uint32
	pImmutableSamplers unsafe.Pointer
}

type descriptorSetLayoutCreateInfo struct {
	sType        uint32
	pNext        unsafe.Pointer
	flags        uint32
	bindingCount uint32
	pBindings    *descriptorSetLayoutBinding
}

type pushConstantRange struct {
	stageFlags uint32
	offset     uint32
	size       uint32
}

type pipelineLayoutCreateInfo struct {
	sType                  uint32
	pNext                  unsafe.Pointer
	flags                  uint32
	setLayoutCount         uint32
	pSetLayouts            *uint64
	pushConstantRangeCount uint32
	pPushConstantRanges    *pushConstantRange
}

type pipelineShaderStageCreateInfo struct {
	sType               uint32
	pNext               unsafe.Pointer
	flags               uint32
	stage               uint32
	module              uint64
	pName               *byte
	pSpecializationInfo unsafe.Pointer
}

type computePipelineCreateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	flags              uint32
	stage              pipelineShaderStageCreateInfo
	layout             uint64
	basePipelineHandle uint64
	basePipelineIndex  int32
}

type descriptorPoolSize struct {
	typ             uint32
	descriptorCount uint32
}

type descriptorPoolCreateInfo struct {
	sType         uint32
	pNext         unsafe.Pointer
	flags         uint32
	maxSets       uint32
	poolSizeCount uint32
	pPoolSizes    *descriptorPoolSize
}

type descriptorSetAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	descriptorPool     uint64
	descriptorSetCount uint32
	pSetLayouts        *uint64
}

type descriptorBufferInfo struct {
	buffer uint64
	offset uint64
	rng    uint64
}

type writeDescriptorSet struct {
	sType            uint32
	pNext            unsafe.Pointer
	dstSet           uint64
	dstBinding       uint32
	dstArrayElement  uint32
	descriptorCount  uint32
	descriptorType   uint32
	pImageInfo       unsafe.Pointer
	pBufferInfo      *descriptorBufferInfo
	pTexelBufferView unsafe.Pointer
}

type commandPoolCreateInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	queueFamilyIndex uint32
}

type commandBufferAllocateInfo struct {
	sType              uint32
	pNext              unsafe.Pointer
	commandPool        uint64
	level              uint32
	commandBufferCount uint32
}

type commandBufferBeginInfo struct {
	sType            uint32
	pNext            unsafe.Pointer
	flags            uint32
	pInheritanceInfo unsafe.Pointer
}

type memoryBarrier struct {
	sType         uint32
	pNext         unsafe.Pointer
	srcAccessMask uint32
	dstAccessMask uint32
}

type submitInfo struct {
	sType                uint32
	pNext                unsafe.Pointer
	waitSemaphoreCount   uint32
	pWaitSemaphores      unsafe.Pointer
	pWaitDstStageMask    unsafe.Pointer
	commandBufferCount   uint32
	pCommandBuffers      *uintptr
	signalSemaphoreCount uint32
	pSignalSemaphores    unsafe.Pointer
}

// api holds the loaded entry points.
type api struct {
	lib                                    uintptr
	getInstanceProcAddr                    func(instance uintptr, name *byte) uintptr
	createInstance                         func(info *instanceCreateInfo, alloc unsafe.Pointer, out *uintptr) int32
	destroyInstance                        func(instance uintptr, alloc unsafe.Pointer)
	enumeratePhysicalDevices               func(instance uintptr, count *uint32, out *uintptr) int32
	getPhysicalDeviceProperties            func(pd uintptr, out *byte)
	getPhysicalDeviceQueueFamilyProperties func(pd uintptr, count *uint32, out *queueFamilyProperties)
	getPhysicalDeviceMemoryProperties      func(pd uintptr, out *byte)
	createDevice                           func(pd uintptr, info *deviceCreateInfo, alloc unsafe.Pointer, out *uintptr) int32
	destroyDevice                          func(dev uintptr, alloc unsafe.Pointer)
	deviceWaitIdle                         func(dev uintptr) int32
	getDeviceQueue                         func(dev uintptr, family, index uint32, out *uintptr)
	createBuffer                           func(dev uintptr, info *bufferCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyBuffer                          func(dev uintptr, buf uint64, alloc unsafe.Pointer)
	getBufferMemoryRequirements            func(dev uintptr, buf uint64, out *memoryRequirements)
	allocateMemory                         func(dev uintptr, info *memoryAllocateInfo, alloc unsafe.Pointer, out *uint64) int32
	freeMemory                             func(dev uintptr, mem uint64, alloc unsafe.Pointer)
	bindBufferMemory                       func(dev uintptr, buf, mem, offset uint64) int32
	mapMemory                              func(dev uintptr, mem, offset, size uint64, flags uint32, out *unsafe.Pointer) int32
	createShaderModule                     func(dev uintptr, info *shaderModuleCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyShaderModule                    func(dev uintptr, m uint64, alloc unsafe.Pointer)
	createDescriptorSetLayout              func(dev uintptr, info *descriptorSetLayoutCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyDescriptorSetLayout             func(dev uintptr, l uint64, alloc unsafe.Pointer)
	createPipelineLayout                   func(dev uintptr, info *pipelineLayoutCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyPipelineLayout                  func(dev uintptr, l uint64, alloc unsafe.Pointer)
	createComputePipelines                 func(dev uintptr, cache uint64, n uint32, info *computePipelineCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyPipeline                        func(dev uintptr, p uint64, alloc unsafe.Pointer)
	createDescriptorPool                   func(dev uintptr, info *descriptorPoolCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyDescriptorPool                  func(dev uintptr, p uint64, alloc unsafe.Pointer)
	resetDescriptorPool                    func(dev uintptr, p uint64, flags uint32) int32
	allocateDescriptorSets                 func(dev uintptr, info *descriptorSetAllocateInfo, out *uint64) int32
	updateDescriptorSets                   func(dev uintptr, nw uint32, w *writeDescriptorSet, nc uint32, c unsafe.Pointer)
	createCommandPool                      func(dev uintptr, info *commandPoolCreateInfo, alloc unsafe.Pointer, out *uint64) int32
	destroyCommandPool                     func(dev uintptr, p uint64, alloc unsafe.Pointer)
	allocateCommandBuffers                 func(dev uintptr, info *commandBufferAllocateInfo, out *uintptr) int32
	beginCommandBuffer                     func(cb uintptr, info *commandBufferBeginInfo) int32
	endCommandBuffer                       func(cb uintptr) int32
	resetCommandBuffer                     func(cb uintptr, flags uint32) int32
	cmdBindPipeline                        func(cb uintptr, point uint32, p uint64)
	cmdBindDescriptorSets                  func(cb uintptr, point uint32, layout uint64, first, n uint32, sets *uint64, nd uint32, dyn *uint32)
	cmdPushConstants                       func(cb uintptr, layout uint64, stages, offset, size uint32, values unsafe.Pointer)
	cmdDispatch                            func(cb uintptr, x, y, z uint32)
	cmdPipelineBarrier                     func(cb uintptr, src, dst, dep uint32, nm uint32, m *memoryBarrier, nb uint32, b unsafe.Pointer, ni uint32, i unsafe.Pointer)
	queueSubmit                            func(q uintptr, n uint32, s *submitInfo, fence uint64) int32
	queueWaitIdle                          func(q uintptr) int32
}

// ErrNoLoader is returned when no Vulkan loader (libvulkan.so.1, or the
// file TADD_VULKAN_LOADER names) can be opened.
var ErrNoLoader = errors.New("vulkan: no Vulkan loader (libvulkan.so.1; Debian: libvulkan1)")

// resolve registers the named functions of instance.
func (a *api) resolve(instance uintptr, fns map[string]any) error {
	for name, fn := range fns {
		cname := append([]byte(name), 0)
		addr := a.getInstanceProcAddr(instance, &cname[0])
		if addr == 0 {
			return fmt.Errorf("vulkan: the loader has no %s", name)
		}
		purego.RegisterFunc(fn, addr)
	}
	return nil
}

func (a *api) resolveInstance(instance uintptr) error {
	return a.resolve(instance, map[string]any{
		"vkDestroyInstance":                        &a.destroyInstance,
		"vkEnumeratePhysicalDevices":               &a.enumeratePhysicalDevices,
		"vkGetPhysicalDeviceProperties":            &a.getPhysicalDeviceProperties,
		"vkGetPhysicalDeviceQueueFamilyProperties": &a.getPhysicalDeviceQueueFamilyProperties,
		"vkGetPhysicalDeviceMemoryProperties":      &a.getPhysicalDeviceMemoryProperties,
		"vkCreateDevice":                           &a.createDevice,
		"vkDestroyDevice":                          &a.destroyDevice,
		"vkDeviceWaitIdle":                         &a.deviceWaitIdle,
		"vkGetDeviceQueue":                         &a.getDeviceQueue,
		"vkCreateBuffer":                           &a.createBuffer,
		"vkDestroyBuffer":                          &a.destroyBuffer,
		"vkGetBufferMemoryRequirements":            &a.getBufferMemoryRequirements,
		"vkAllocateMemory":                         &a.allocateMemory,
		"vkFreeMemory":                             &a.freeMemory,
		"vkBindBufferMemory":                       &a.bindBufferMemory,
		"vkMapMemory":                              &a.mapMemory,
		"vkCreateShaderModule":                     &a.createShaderModule,
		"vkDestroyShaderModule":                    &a.destroyShaderModule,
		"vkCreateDescriptorSetLayout":              &a.createDescriptorSetLayout,
		"vkDestroyDescriptorSetLayout":             &a.destroyDescriptorSetLayout,
		"vkCreatePipelineLayout":                   &a.createPipelineLayout,
		"vkDestroyPipelineLayout":                  &a.destroyPipelineLayout,
		"vkCreateComputePipelines":                 &a.createComputePipelines,
		"vkDestroyPipeline":                        &a.destroyPipeline,
		"vkCreateDescriptorPool":                   &a.createDescriptorPool,
		"vkDestroyDescriptorPool":                  &a.destroyDescriptorPool,
		"vkResetDescriptorPool":                    &a.resetDescriptorPool,
		"vkAllocateDescriptorSets":                 &a.allocateDescriptorSets,
		"vkUpdateDescriptorSets":                   &a.updateDescriptorSets,
		"vkCreateCommandPool":                      &a.createCommandPool,
		"vkDestroyCommandPool":                     &a.destroyCommandPool,
		"vkAllocateCommandBuffers":                 &a.allocateCommandBuffers,
		"vkBeginCommandBuffer":                     &a.beginCommandBuffer,
		"vkEndCommandBuffer":                       &a.endCommandBuffer,
		"vkResetCommandBuffer":                     &a.resetCommandBuffer,
		"vkCmdBindPipeline":                        &a.cmdBindPipeline,
		"vkCmdBindDescriptorSets":                  &a.cmdBindDescriptorSets,
		"vkCmdPushConstants":                       &a.cmdPushConstants,
		"vkCmdDispatch":                            &a.cmdDispatch,
		"vkCmdPipelineBarrier":                     &a.cmdPipelineBarrier,
		"vkQueueSubmit":                            &a.queueSubmit,
		"vkQueueWaitIdle":                          &a.queueWaitIdle,
	})
}

// check turns a VkResult into an error.
func check(what string, r int32) error {
	if r == 0 {
		return nil
	}
	return fmt.Errorf("vulkan: %s failed (VkResult %d)", what, r)
}
