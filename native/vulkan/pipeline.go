package vulkan

import (
	"encoding/binary"
	"fmt"
)

// Pipeline is one compute shader with its storage-buffer bindings (0..n-1)
// and push constants; a Recorder dispatches it.
type Pipeline struct {
	d        *Device
	module   uint64
	setLay   uint64
	layout   uint64
	pipeline uint64
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
	return p, nil
}

// Close releases the pipeline.
func (p *Pipeline) Close() {
	d, a := p.d, p.d.api
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
