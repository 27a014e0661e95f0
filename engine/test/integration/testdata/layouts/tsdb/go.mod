module example.com/tsdb

go 1.26.0

require github.com/mageship/mageship v0.0.0

require github.com/magefile/mage v1.17.2 // indirect

tool github.com/magefile/mage

// rigtest.Layout points this at the checkout under test.
replace github.com/mageship/mageship => ../../../../../..
