module github.com/breachd/breachd

go 1.26.8
