//go:build darwin || freebsd || linux || netbsd

package vulkan

import (
	"fmt"
	"os"

	"github.com/ebitengine/purego"
)

// load opens the Vulkan loader and resolves every entry point; instance is
// 0 for the global ones, then the created instance for the rest.
func load() (*api, error) {
	var lib uintptr
	var err error
	names := []string{"libvulkan.so.1", "libvulkan.so", "libvulkan.1.dylib", "libMoltenVK.dylib"}
	if p := os.Getenv("TADD_VULKAN_LOADER"); p != "" {
		names = []string{p} // a loader at a path of the user's choosing
	}
	for _, name := range names {
		if lib, err = purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoLoader, err)
	}
	sym, err := purego.Dlsym(lib, "vkGetInstanceProcAddr")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoLoader, err)
	}
	a := &api{lib: lib}
	purego.RegisterFunc(&a.getInstanceProcAddr, sym)
	return a, a.resolve(0, map[string]any{"vkCreateInstance": &a.createInstance})
}
