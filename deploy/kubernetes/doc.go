// Package kubernetes holds the Kubernetes manifest of a sharded sweep
// (sweep.yaml) and its validation test. It is a module of its own so that
// the Kubernetes API types it validates against stay out of fusionsim's
// dependencies; `make k8s-validate` runs it.
package kubernetes
