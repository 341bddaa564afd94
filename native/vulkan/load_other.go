//go:build !(darwin || freebsd || linux || netbsd)

package vulkan

// load reports that this build has no way to open the Vulkan loader: it
// opens it with purego's Dlopen, which exists on Unix systems only.
func load() (*api, error) { return nil, ErrNoLoader }
