# fusionsim: the commands a developer and CI run.
GO ?= go
PKGS := ./...

.PHONY: all build test unit lint run bench e2e fuzz clean

all: build test

## build: compile every package and the commands into bin/
build:
	$(GO) build $(PKGS)
	$(GO) build -o bin/ ./cmd/...

## test: what CI runs (.ci/run): lint, then every test with the race detector
test: lint unit

unit:
	$(GO) test -race -count=1 $(PKGS)

## lint: go vet and gofmt
lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l lists:"; echo "$$out"; exit 1; fi

## run: the main job, Fusionize++ on the IoT workload in the emulator
run:
	$(GO) run ./cmd/simulate --workload iot

## bench: the speed targets, as Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin/
