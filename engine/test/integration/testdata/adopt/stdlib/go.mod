module example.com/stdlibsvc

go 1.24.0
