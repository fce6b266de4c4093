module github.com/graftgo/graft/bench

go 1.26

require github.com/graftgo/graft v0.0.0

replace github.com/graftgo/graft => ../
