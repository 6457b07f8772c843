# fusionsim: the commands a developer and CI run.
GO ?= go
PKGS := ./...

.PHONY: all build test unit lint run bench e2e fuzz clean

all: build test

## build: compile every package and the commands into bin/
build:
	$(GO) build $(PKGS)
	$(GO) build -o bin/ ./cmd/...

## test: what CI runs (.ci/run): lint, then every test with the race detector, then e2e
test: lint unit e2e

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

## e2e: cmd/emulator with real clients, awscli and hey (installed from Debian when missing), about 15 s
e2e:
	GO=$(GO) scripts/e2e.sh

## fuzz: every fuzz target of the module (scripts/fuzz.sh finds them), FUZZTIME each (default 60s)
FUZZTIME ?= 60s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## lambda-zip: the AWS backend's function packages, bin/lambda/fusion-lambda-{x86_64,arm64}.zip
.PHONY: lambda-zip
lambda-zip:
	$(GO) run ./cmd/simulate lambda-zip --out bin/lambda

## calibration: refit the default profile on ../shared/calibration, then print the validation table (README)
calibration:
	$(GO) run ./cmd/simulate calibrate --quiet --out model/default_profile.json ../shared/calibration/*/
	$(GO) run ./cmd/simulate validate --quiet --format markdown ../shared/calibration/*/

clean:
	rm -rf bin/
