module github.com/mageship/mageship

// The targets' module: what a service adds to its go.mod. It requires nothing, and its
// go line is kept low so that adopting mageship never raises a service's go line (which
// would change its binary: the go line sets the default GODEBUG). The engine, with
// every dependency, is the separate module in engine/.
go 1.21
