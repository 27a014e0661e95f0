module example.com/tagged/lib

go 1.26.0
