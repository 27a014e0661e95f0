module example.com/mono/lib

go 1.26.0
