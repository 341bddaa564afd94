package vulkan

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Pipeline is one compute shader with its storage-buffer bindings (0..n-1)
// and push constants.
type Pipeline struct {
	d        *Device
	module   uint64
	setLay   uint64
	layout   uint64
	pipeline uint64
	pool     uint64
	set      uint64
	buffers  int
	push     int
}

// NewPipeline builds a compute pipeline from SPIR-V with nBuffers storage
// buffers and pushBytes of push constants.
func (d *Device) NewPipeline(spirv []byte, nBuffers, pushBytes int) (*Pipeline, error) {
	if len(spirv) < 20 || len(spirv)%4 != 0 || binary.LittleEndian.Uint32(spirv) != 0x07230203 {
		return nil, fmt.Errorf("vulkan: not SPIR-V (%d bytes)", len(spirv))
	}
	a := d.api
	p := &Pipeline{d: d, buffers: nBuffers, push: pushBytes}
	code := make([]uint32, len(spirv)/4)
	for i := range code {
		code[i] = binary.LittleEndian.Uint32(spirv[4*i:])
	}
	smi := &shaderModuleCreateInfo{sType: sTypeShaderModuleCreateInfo, codeSize: uintptr(len(spirv)), pCode: &code[0]}
	if err := check("vkCreateShaderModule", a.createShaderModule(d.device, smi, nil, &p.module)); err != nil {
		return nil, err
	}
	binds := make([]descriptorSetLayoutBinding, nBuffers)
	for i := range binds {
		binds[i] = descriptorSetLayoutBinding{binding: uint32(i), descriptorType: descriptorTypeStorageBuffer, descriptorCount: 1, stageFlags: shaderStageCompute}
	}
	dli := &descriptorSetLayoutCreateInfo{sType: sTypeDescriptorSetLayoutInfo, bindingCount: uint32(nBuffers), pBindings: &binds[0]}
	if err := check("vkCreateDescriptorSetLayout", a.createDescriptorSetLayout(d.device, dli, nil, &p.setLay)); err != nil {
		p.Close()
		return nil, err
	}
	pcr := &pushConstantRange{stageFlags: shaderStageCompute, size: uint32(pushBytes)}
	pli := &pipelineLayoutCreateInfo{sType: sTypePipelineLayoutCreateInfo, setLayoutCount: 1, pSetLayouts: &p.setLay, pushConstantRangeCount: 1, pPushConstantRanges: pcr}
	if err := check("vkCreatePipelineLayout", a.createPipelineLayout(d.device, pli, nil, &p.layout)); err != nil {
		p.Close()
		return nil, err
	}
	entry := []byte("main\x00")
	cpi := &computePipelineCreateInfo{sType: sTypeComputePipelineCreateInfo, layout: p.layout, basePipelineIndex: -1,
		stage: pipelineShaderStageCreateInfo{sType: sTypePipelineShaderStageInfo, stage: shaderStageCompute, module: p.module, pName: &entry[0]}}
	if err := check("vkCreateComputePipelines", a.createComputePipelines(d.device, 0, 1, cpi, nil, &p.pipeline)); err != nil {
		p.Close()
		return nil, err
	}
	ps := &descriptorPoolSize{typ: descriptorTypeStorageBuffer, descriptorCount: uint32(nBuffers)}
	dpi := &descriptorPoolCreateInfo{sType: sTypeDescriptorPoolCreateInfo, maxSets: 1, poolSizeCount: 1, pPoolSizes: ps}
	if err := check("vkCreateDescriptorPool", a.createDescriptorPool(d.device, dpi, nil, &p.pool)); err != nil {
		p.Close()
		return nil, err
	}
	dai := &descriptorSetAllocateInfo{sType: sTypeDescriptorSetAllocateInfo, descriptorPool: p.pool, descriptorSetCount: 1, pSetLayouts: &p.setLay}
	if err := check("vkAllocateDescriptorSets", a.allocateDescriptorSets(d.device, dai, &p.set)); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Run binds bufs, pushes the constants and dispatches groups, then waits
// for the device to finish.
func (p *Pipeline) Run(bufs []*Buffer, push []uint32, groups [3]uint32) error {
	if len(bufs) != p.buffers || len(push)*4 != p.push {
		return fmt.Errorf("vulkan: pipeline takes %d buffers and %d bytes of constants, got %d and %d", p.buffers, p.push, len(bufs), 4*len(push))
	}
	d := p.d
	a := d.api
	d.mu.Lock()
	defer d.mu.Unlock()
	infos := make([]descriptorBufferInfo, len(bufs))
	writes := make([]writeDescriptorSet, len(bufs))
	for i, b := range bufs {
		infos[i] = descriptorBufferInfo{buffer: b.buf, rng: wholeSize}
		writes[i] = writeDescriptorSet{sType: sTypeWriteDescriptorSet, dstSet: p.set, dstBinding: uint32(i), descriptorCount: 1,
			descriptorType: descriptorTypeStorageBuffer, pBufferInfo: &infos[i]}
	}
	a.updateDescriptorSets(d.device, uint32(len(writes)), &writes[0], 0, nil)
	if err := check("vkResetCommandBuffer", a.resetCommandBuffer(d.cmd, 0)); err != nil {
		return err
	}
	bi := &commandBufferBeginInfo{sType: sTypeCommandBufferBeginInfo, flags: commandBufferUsageOneTimeSubmit}
	if err := check("vkBeginCommandBuffer", a.beginCommandBuffer(d.cmd, bi)); err != nil {
		return err
	}
	a.cmdBindPipeline(d.cmd, pipelineBindPointCompute, p.pipeline)
	a.cmdBindDescriptorSets(d.cmd, pipelineBindPointCompute, p.layout, 0, 1, &p.set, 0, nil)
	pc := append([]uint32(nil), push...)
	a.cmdPushConstants(d.cmd, p.layout, shaderStageCompute, 0, uint32(p.push), unsafe.Pointer(&pc[0]))
	a.cmdDispatch(d.cmd, groups[0], groups[1], groups[2])
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

// Close releases the pipeline.
func (p *Pipeline) Close() {
	d, a := p.d, p.d.api
	if p.pool != 0 {
		a.destroyDescriptorPool(d.device, p.pool, nil)
	}
	if p.pipeline != 0 {
		a.destroyPipeline(d.device, p.pipeline, nil)
	}
	if p.layout != 0 {
		a.destroyPipelineLayout(d.device, p.layout, nil)
	}
	if p.setLay != 0 {
		a.destroyDescriptorSetLayout(d.device, p.setLay, nil)
	}
	if p.module != 0 {
		a.destroyShaderModule(d.device, p.module, nil)
	}
	*p = Pipeline{d: d}
}
