module github.com/mageship/mageship

go 1.24

tool github.com/magefile/mage

require github.com/magefile/mage v1.17.2 // indirect
