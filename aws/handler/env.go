package handler

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fusionsim/fusionsim"
)

// Environment variables of a fusion function.
const (
	// EnvEntry names the function's entry task (the prototype's variable).
	EnvEntry = "FUNCTION_TO_HANDLE"
	// EnvApp names the application (a workload of package workloads).
	EnvApp = "FUSION_APP"
	// EnvSetup is the setup's trace name.
	EnvSetup = "FUSION_SETUP"
	// EnvRules is the setup's rule row of the entry task (EncodeRules).
	EnvRules = "FUSION_RULES"
	// EnvSetupFile is a configuration metadata file in the package, used
	// when EnvRules is not set (default: DefaultSetupFile in the task root).
	EnvSetupFile = "FUSION_SETUP_FILE"
	// EnvPrefix is the name prefix of the deployment's functions and tables.
	EnvPrefix = "FUSION_PREFIX"
	// EnvMaxCallDepth bounds chains of calls (default DefaultMaxCallDepth).
	EnvMaxCallDepth = "FUSION_MAX_CALL_DEPTH"
	// EnvDeployment is changed by every deployment and forced cold start: a
	// new value makes Lambda discard the function's environments. The
	// handler does not read it.
	EnvDeployment = "FUSION_DEPLOYMENT"

	// envMemory and envTaskRoot are set by Lambda.
	envMemory   = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"
	envTaskRoot = "LAMBDA_TASK_ROOT"
)

// DefaultSetupFile is the configuration metadata file the handler looks for
// in the task root (beside the bootstrap) when no rules are in the
// environment.
const DefaultSetupFile = "fusion-setups.json"

// DefaultMaxCallDepth is the default bound of call chains (the emulator's
// default profile has the same limit).
const DefaultMaxCallDepth = 32

// EnvLimitBytes is Lambda's limit on the total size of a function's
// environment variables (keys and values).
const EnvLimitBytes = 4096

// InlineRulesMax is the longest rule row EncodeRules writes as plain JSON;
// longer rows are compressed.
const InlineRulesMax = 2048

// gzPrefix marks a compressed rule row.
const gzPrefix = "gz:"

// ErrConfig is wrapped by every error of ConfigFromEnv.
var ErrConfig = errors.New("fusion function configuration")

// Config is what a fusion function needs to know.
type Config struct {
	// App is the application whose tasks the function runs.
	App *fusionsim.App
	// Entry is the function's entry task.
	Entry string
	// MemoryMB is the function's memory size, MB.
	MemoryMB int
	// Setup is the setup's trace name.
	Setup string
	// Rules is the setup's rule row of Entry: how each call runs inside
	// this function.
	Rules map[string]fusionsim.RulePair
	// Prefix starts the names of the functions and tables the function
	// calls ("" for the prototype's names).
	Prefix string
	// MaxCallDepth bounds chains of calls (0: DefaultMaxCallDepth).
	MaxCallDepth int
}

// Function is the function's id (entry task and memory size).
func (c Config) Function() fusionsim.FunctionID {
	return fusionsim.FunctionID{Task: c.Entry, MemoryMB: c.MemoryMB}
}

// Validate checks the configuration against its application.
func (c Config) Validate() error {
	if c.App == nil {
		return fmt.Errorf("%w: no application", ErrConfig)
	}
	if _, ok := c.App.Tasks[c.Entry]; !ok {
		return fmt.Errorf("%w: %s=%q is not a task of %s (tasks: %v)", ErrConfig, EnvEntry, c.Entry, c.App.Name, c.App.TaskNames())
	}
	if c.MemoryMB < fusionsim.MinMemoryMB || c.MemoryMB > fusionsim.MaxMemoryMB {
		return fmt.Errorf("%w: %s=%d is outside %d..%d MB", ErrConfig, envMemory, c.MemoryMB, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
	}
	s := fusionsim.Setup{Rules: fusionsim.Rules{c.Entry: c.Rules}, TraceName: fusionsim.NewTraceName(c.Setup)}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("%w: %s/%s: %v", ErrConfig, EnvSetup, EnvRules, err)
	}
	for called := range c.Rules {
		if _, ok := c.App.Tasks[called]; !ok {
			return fmt.Errorf("%w: %s: %q is not a task of %s", ErrConfig, EnvRules, called, c.App.Name)
		}
	}
	if err := ValidatePrefix(c.Prefix); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrConfig, EnvPrefix, err)
	}
	if c.MaxCallDepth < 0 {
		return fmt.Errorf("%w: %s=%d must be >= 1", ErrConfig, EnvMaxCallDepth, c.MaxCallDepth)
	}
	return nil
}

// ValidatePrefix accepts the characters Lambda and DynamoDB allow in names
// (letters, digits, '-' and '_'), at most 20 of them.
func ValidatePrefix(p string) error {
	if len(p) > 20 {
		return fmt.Errorf("prefix %q is longer than 20 characters", p)
	}
	for _, c := range p {
		ok := c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return fmt.Errorf("prefix %q: character %q not allowed (letters, digits, - and _)", p, c)
		}
	}
	return nil
}

// FunctionName is the deployed name of function id under prefix.
func FunctionName(prefix string, id fusionsim.FunctionID) string { return prefix + id.Name() }

// TableName is the deployed name of table under prefix.
func TableName(prefix, table string) string { return prefix + table }

// ConfigFromEnv reads a function's configuration from its environment
// (lookup is os.LookupEnv on Lambda). app finds an application by name.
func ConfigFromEnv(lookup func(string) (string, bool), app func(name string) (*fusionsim.App, error)) (Config, error) {
	get := func(k string) string { v, _ := lookup(k); return v }
	var c Config
	name := get(EnvApp)
	if name == "" {
		return c, fmt.Errorf("%w: %s is not set (the application's name)", ErrConfig, EnvApp)
	}
	a, err := app(name)
	if err != nil {
		return c, fmt.Errorf("%w: %s=%q: %v", ErrConfig, EnvApp, name, err)
	}
	c.App = a
	c.Entry = get(EnvEntry)
	if c.Entry == "" {
		return c, fmt.Errorf("%w: %s is not set (the function's entry task)", ErrConfig, EnvEntry)
	}
	mem := get(envMemory)
	if c.MemoryMB, err = strconv.Atoi(mem); err != nil {
		return c, fmt.Errorf("%w: %s=%q is not a memory size in MB", ErrConfig, envMemory, mem)
	}
	c.Prefix = get(EnvPrefix)
	if v := get(EnvMaxCallDepth); v != "" {
		if c.MaxCallDepth, err = strconv.Atoi(v); err != nil || c.MaxCallDepth < 1 {
			return c, fmt.Errorf("%w: %s=%q must be a whole number >= 1", ErrConfig, EnvMaxCallDepth, v)
		}
	}
	c.Setup = get(EnvSetup)
	if rules, ok := lookup(EnvRules); ok {
		if c.Setup == "" {
			return c, fmt.Errorf("%w: %s is set but %s (the setup's trace name) is not", ErrConfig, EnvRules, EnvSetup)
		}
		if c.Rules, err = DecodeRules(rules); err != nil {
			return c, fmt.Errorf("%w: %s: %v", ErrConfig, EnvRules, err)
		}
	} else if err := c.rulesFromFile(get); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// rulesFromFile takes the rule row from configuration metadata in the
// package.
func (c *Config) rulesFromFile(get func(string) string) error {
	path := get(EnvSetupFile)
	if path == "" {
		root := get(envTaskRoot)
		if root == "" {
			root = "."
		}
		path = filepath.Join(root, DefaultSetupFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: neither %s nor a setup file: %v", ErrConfig, EnvRules, err)
	}
	configs, err := fusionsim.ParseConfigs(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrConfig, path, err)
	}
	name := c.Setup
	if name == "" {
		name = configs.Latest()
	}
	s, ok := configs[name]
	if !ok {
		return fmt.Errorf("%w: %s=%q is not a setup of %s (setups: %v)", ErrConfig, EnvSetup, name, path, configs.Names())
	}
	c.Setup = s.Name()
	c.Rules = s.Rules[c.Entry]
	if c.Rules == nil {
		c.Rules = map[string]fusionsim.RulePair{}
	}
	return nil
}

// EncodeRules writes a rule row for EnvRules: compact JSON with sorted keys,
// or "gz:" and the base64 of its gzip when it is longer than InlineRulesMax.
func EncodeRules(row map[string]fusionsim.RulePair) (string, error) {
	if row == nil {
		row = map[string]fusionsim.RulePair{}
	}
	b, err := json.Marshal(row)
	if err != nil {
		return "", err
	}
	if len(b) <= InlineRulesMax {
		return string(b), nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return "", err
	}
	return gzPrefix + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// maxRulesBytes bounds a decompressed rule row.
const maxRulesBytes = 1 << 20

// DecodeRules reads what EncodeRules wrote.
func DecodeRules(s string) (map[string]fusionsim.RulePair, error) {
	data := []byte(s)
	if len(s) >= len(gzPrefix) && s[:len(gzPrefix)] == gzPrefix {
		z, err := base64.StdEncoding.DecodeString(s[len(gzPrefix):])
		if err != nil {
			return nil, fmt.Errorf("compressed rules: %w", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			return nil, fmt.Errorf("compressed rules: %w", err)
		}
		if data, err = io.ReadAll(io.LimitReader(zr, maxRulesBytes)); err != nil {
			return nil, fmt.Errorf("compressed rules: %w", err)
		}
	}
	var row map[string]fusionsim.RulePair
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&row); err != nil {
		return nil, fmt.Errorf("not a rule row (a JSON object of {\"sync\":...,\"async\":...} by task): %w", err)
	}
	if row == nil {
		row = map[string]fusionsim.RulePair{}
	}
	return row, nil
}

// Environment is the environment the AWS backend gives function id under
// setup: every variable the handler reads (but the ones Lambda sets).
// deployment is the EnvDeployment value.
func Environment(app string, id fusionsim.FunctionID, setup *fusionsim.Setup, prefix string, maxCallDepth int, deployment string) (map[string]string, error) {
	rules, err := EncodeRules(setup.Rules[id.Task])
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		EnvApp:        app,
		EnvEntry:      id.Task,
		EnvSetup:      setup.Name(),
		EnvRules:      rules,
		EnvDeployment: deployment,
	}
	if prefix != "" {
		env[EnvPrefix] = prefix
	}
	if maxCallDepth > 0 {
		env[EnvMaxCallDepth] = strconv.Itoa(maxCallDepth)
	}
	if n := EnvSize(env); n > EnvLimitBytes {
		return env, fmt.Errorf("environment of %s under setup %s is %d bytes, over Lambda's limit of %d (its rule row is %d bytes)",
			FunctionName(prefix, id), setup.Name(), n, EnvLimitBytes, len(rules))
	}
	return env, nil
}

// EnvSize is the size Lambda counts against EnvLimitBytes: every key and
// value.
func EnvSize(env map[string]string) int {
	n := 0
	for k, v := range env {
		n += len(k) + len(v)
	}
	return n
}
