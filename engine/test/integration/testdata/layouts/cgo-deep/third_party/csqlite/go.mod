module example.com/csqlite

go 1.26.0
