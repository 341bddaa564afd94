package serve

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// maxName bounds one element of a requested path (most file systems allow
// 255 bytes) and maxPath the whole path.
const (
	maxName = 255
	maxPath = 1024
)

// errBadPath marks a request path that names no file we would ever serve:
// control characters, empty or over-long elements.
var errBadPath = errors.New("bad path")

// errNotServed marks a path that exists but is not served: a dot-file or
// dot-folder, a folder, a device, a FIFO, a file outside the folder, or a
// model that the manifest does not list or does not match.
var errNotServed = errors.New("not served (hidden, not a regular file, or outside the folder)")

// errTooLarge marks a file over the size its reader accepts.
var errTooLarge = errors.New("too large")

// checkName reports whether name (slash-separated, relative) is a path this
// server may serve: a valid fs path of printable elements of at most
// maxName bytes, none of them starting with a dot.
func checkName(name string) error {
	if len(name) > maxPath || !fs.ValidPath(name) || name == "." {
		return errBadPath
	}
	for _, elem := range strings.Split(name, "/") {
		if len(elem) > maxName {
			return errBadPath
		}
		for i := 0; i < len(elem); i++ {
			if c := elem[i]; c < 0x20 || c == 0x7f || c == '\\' {
				return errBadPath
			}
		}
		if strings.HasPrefix(elem, ".") {
			return errNotServed
		}
	}
	return nil
}

// stamp identifies the version of a regular file in fsys by its size and
// modification time, so that caches notice a replaced file. It returns
// errNotServed for anything but a regular file. A file system without Stat
// (the Worker's assets, which never change) gets an empty stamp.
func stamp(fsys fs.FS, name string) (string, error) {
	if err := checkLinks(fsys, name, 0); err != nil {
		return "", err
	}
	sfs, ok := fsys.(fs.StatFS)
	if !ok {
		return "", nil
	}
	info, err := sfs.Stat(name)
	if err != nil {
		return "", notFound(err)
	}
	if !info.Mode().IsRegular() {
		return "", errNotServed
	}
	return fmt.Sprintf("%d@%d", info.Size(), info.ModTime().UnixNano()), nil
}

// maxLinks bounds the symlinks followed in one path.
const maxLinks = 8

// checkLinks refuses a path that reaches a dot-file or dot-folder through
// symlinks inside the folder (the file system, an os.Root, stops links
// out of it): every element of name that is a symlink must point, from
// where it is, to a relative path that checkName accepts and whose own
// links do too. A file system without ReadLink has no links to check.
func checkLinks(fsys fs.FS, name string, depth int) error {
	rl, ok := fsys.(fs.ReadLinkFS)
	if !ok {
		return nil
	}
	elems := strings.Split(name, "/")
	for i := range elems {
		p := strings.Join(elems[:i+1], "/")
		info, err := rl.Lstat(p)
		if err != nil {
			return notFound(err)
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := rl.ReadLink(p)
		if err != nil {
			return notFound(err)
		}
		if depth >= maxLinks || path.IsAbs(target) {
			return errNotServed
		}
		resolved := path.Join(path.Dir(p), target)
		if checkName(resolved) != nil || checkLinks(fsys, resolved, depth+1) != nil {
			return errNotServed
		}
	}
	return nil
}

// notFound turns an error from opening or statting a path into
// fs.ErrNotExist, whatever the reason (missing, a file used as a folder,
// a name too long, a symlink out of the folder): to a client they all mean
// there is nothing to serve there.
func notFound(err error) error {
	return fmt.Errorf("%w (%v)", fs.ErrNotExist, err)
}

// readRegular reads the regular file name of fsys, refusing anything else
// and any file over limit bytes before reading it. It stats before opening
// (opening a FIFO would block) and again after (the file may have been
// replaced in between), and reads at most limit+1 bytes whatever the
// stats say.
func readRegular(fsys fs.FS, name string, limit int64) ([]byte, error) {
	if _, err := stamp(fsys, name); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, notFound(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, notFound(err)
	}
	if !info.Mode().IsRegular() {
		return nil, errNotServed
	}
	if info.Size() > limit {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", errTooLarge, info.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", errTooLarge, limit)
	}
	return b, nil
}
