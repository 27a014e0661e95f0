module example.com/cgosvc

go 1.26.0

require (
	example.com/csqlite v0.0.0
	github.com/mageship/mageship v0.0.0
)

require github.com/magefile/mage v1.17.2 // indirect

tool github.com/magefile/mage

replace example.com/csqlite => ./third_party/csqlite

// rigtest.Layout points this at the checkout under test.
replace github.com/mageship/mageship => ../../../../../..
