module example.com/mono/worker

go 1.26.0
