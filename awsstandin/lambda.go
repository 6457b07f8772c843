package awsstandin

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

var randRead = rand.Read

// function is one function of the control plane.
type function struct {
	cfg FunctionConfiguration
	// pending counts the Get calls still to report Pending/InProgress.
	pending int
}

// FunctionConfiguration is the Lambda API's FunctionConfiguration (the
// fields the stand-in keeps).
type FunctionConfiguration struct {
	FunctionName     string         `json:"FunctionName"`
	FunctionArn      string         `json:"FunctionArn"`
	Runtime          string         `json:"Runtime,omitempty"`
	Role             string         `json:"Role"`
	Handler          string         `json:"Handler,omitempty"`
	CodeSize         int64          `json:"CodeSize"`
	CodeSha256       string         `json:"CodeSha256"`
	Description      string         `json:"Description"`
	Timeout          int            `json:"Timeout"`
	MemorySize       int            `json:"MemorySize"`
	LastModified     string         `json:"LastModified"`
	Version          string         `json:"Version"`
	Environment      *Environment   `json:"Environment,omitempty"`
	State            string         `json:"State"`
	LastUpdateStatus string         `json:"LastUpdateStatus"`
	Architectures    []string       `json:"Architectures"`
	PackageType      string         `json:"PackageType"`
	RevisionID       string         `json:"RevisionId"`
	LoggingConfig    *LoggingConfig `json:"LoggingConfig,omitempty"`
}

// Environment is a function's environment.
type Environment struct {
	Variables map[string]string `json:"Variables"`
}

// LoggingConfig is a function's logging configuration.
type LoggingConfig struct {
	LogFormat string `json:"LogFormat,omitempty"`
	LogGroup  string `json:"LogGroup,omitempty"`
}

// functionInput is the body of CreateFunction, UpdateFunctionConfiguration
// and UpdateFunctionCode (each uses its part).
type functionInput struct {
	FunctionName  string         `json:"FunctionName"`
	Runtime       string         `json:"Runtime"`
	Role          string         `json:"Role"`
	Handler       string         `json:"Handler"`
	Description   *string        `json:"Description"`
	Timeout       *int           `json:"Timeout"`
	MemorySize    *int           `json:"MemorySize"`
	Environment   *Environment   `json:"Environment"`
	Architectures []string       `json:"Architectures"`
	PackageType   string         `json:"PackageType"`
	LoggingConfig *LoggingConfig `json:"LoggingConfig"`
	Code          *struct {
		ZipFile  []byte `json:"ZipFile"`
		S3Bucket string `json:"S3Bucket"`
	} `json:"Code"`
	ZipFile []byte `json:"ZipFile"` // UpdateFunctionCode
}

// lastModifiedLayout is the Lambda API's LastModified format.
const lastModifiedLayout = "2006-01-02T15:04:05.000-0700"

func (s *Server) arn(name string) string {
	return "arn:aws:lambda:" + s.cfg.Region + ":" + s.cfg.Account + ":function:" + name
}

// nameOf takes a function name out of a name or an ARN (with or without a
// qualifier).
func nameOf(ref string) string {
	parts := strings.Split(ref, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn":
		return parts[6]
	case len(parts) >= 3 && parts[1] == "function":
		return parts[2]
	}
	return parts[0]
}

func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, lambdaPrefix), "/")
	var parts []string
	if rest != "" {
		parts = strings.Split(rest, "/")
	}
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost:
		s.count("lambda.CreateFunction")
		s.createFunction(w, r)
	case len(parts) == 0 && r.Method == http.MethodGet:
		s.count("lambda.ListFunctions")
		s.listFunctions(w, r)
	case len(parts) == 1 && r.Method == http.MethodGet:
		s.count("lambda.GetFunction")
		s.getFunction(w, nameOf(parts[0]), false)
	case len(parts) == 1 && r.Method == http.MethodDelete:
		s.count("lambda.DeleteFunction")
		s.deleteFunction(w, nameOf(parts[0]))
	case len(parts) == 2 && parts[1] == "configuration" && r.Method == http.MethodGet:
		s.count("lambda.GetFunctionConfiguration")
		s.getFunction(w, nameOf(parts[0]), true)
	case len(parts) == 2 && parts[1] == "configuration" && r.Method == http.MethodPut:
		s.count("lambda.UpdateFunctionConfiguration")
		s.updateFunction(w, r, nameOf(parts[0]), false)
	case len(parts) == 2 && parts[1] == "code" && r.Method == http.MethodPut:
		s.count("lambda.UpdateFunctionCode")
		s.updateFunction(w, r, nameOf(parts[0]), true)
	case len(parts) == 2 && parts[1] == "invocations" && r.Method == http.MethodPost:
		s.count("lambda.Invoke")
		s.invoke(w, r, nameOf(parts[0]))
	case s.cfg.Upstream != nil:
		s.cfg.Upstream.ServeHTTP(w, r)
	default:
		writeRESTError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("the AWS stand-in has no Lambda operation %s %s", r.Method, r.URL.Path))
	}
}

func notFound(w http.ResponseWriter, s *Server, name string) {
	writeRESTError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+s.arn(name))
}

func invalid(w http.ResponseWriter, msg string) {
	writeRESTError(w, http.StatusBadRequest, "InvalidParameterValueException", msg)
}

// checkFunctionName accepts Lambda's function names: letters, digits, '-'
// and '_', 1 to 64 of them.
func checkFunctionName(n string) error {
	if n == "" || len(n) > 64 {
		return fmt.Errorf("function name %q must have 1 to 64 characters", n)
	}
	for _, c := range n {
		if !(c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return fmt.Errorf("function name %q: character %q not allowed", n, c)
		}
	}
	return nil
}

func (s *Server) createFunction(w http.ResponseWriter, r *http.Request) {
	var in functionInput
	if err := readJSON(r, &in); err != nil {
		invalid(w, "request body: "+err.Error())
		return
	}
	if err := checkFunctionName(in.FunctionName); err != nil {
		invalid(w, err.Error())
		return
	}
	if in.Role == "" || !strings.HasPrefix(in.Role, "arn:") {
		invalid(w, fmt.Sprintf("Role %q: an IAM role ARN is required", in.Role))
		return
	}
	if in.Code == nil || len(in.Code.ZipFile) == 0 {
		invalid(w, "Code.ZipFile: a zip package is required (the stand-in does not read S3)")
		return
	}
	f := &function{cfg: FunctionConfiguration{
		FunctionName: in.FunctionName, FunctionArn: s.arn(in.FunctionName),
		Runtime: in.Runtime, Role: in.Role, Handler: in.Handler, Timeout: 3, MemorySize: 128,
		Version: "$LATEST", PackageType: "Zip", Architectures: []string{"x86_64"},
		LoggingConfig: &LoggingConfig{LogFormat: "Text", LogGroup: "/aws/lambda/" + in.FunctionName},
	}}
	if err := s.apply(&f.cfg, &in); err != nil {
		invalid(w, err.Error())
		return
	}
	s.setCode(&f.cfg, in.Code.ZipFile)
	s.mu.Lock()
	if _, ok := s.functions[in.FunctionName]; ok {
		s.mu.Unlock()
		writeRESTError(w, http.StatusConflict, "ResourceConflictException", "Function already exist: "+in.FunctionName)
		return
	}
	s.changed(f)
	f.cfg.State, f.cfg.LastUpdateStatus = "Active", "Successful"
	if f.pending > 0 {
		f.cfg.State, f.cfg.LastUpdateStatus = "Pending", "InProgress"
	}
	s.functions[in.FunctionName] = f
	s.registerGroup(f.cfg)
	out := f.cfg
	s.mu.Unlock()
	writeLambdaJSON(w, http.StatusCreated, out)
}

// apply copies the configuration fields of in into c, checking them.
func (s *Server) apply(c *FunctionConfiguration, in *functionInput) error {
	if in.Runtime != "" {
		c.Runtime = in.Runtime
	}
	if in.Role != "" {
		c.Role = in.Role
	}
	if in.Handler != "" {
		c.Handler = in.Handler
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.Timeout != nil {
		if *in.Timeout < 1 || *in.Timeout > 900 {
			return fmt.Errorf("Timeout %d: must be 1 to 900 seconds", *in.Timeout)
		}
		c.Timeout = *in.Timeout
	}
	if in.MemorySize != nil {
		if *in.MemorySize < fusionsim.MinMemoryMB || *in.MemorySize > fusionsim.MaxMemoryMB {
			return fmt.Errorf("MemorySize %d: must be %d to %d MB", *in.MemorySize, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
		}
		c.MemorySize = *in.MemorySize
	}
	if in.Environment != nil {
		vars := map[string]string{}
		for k, v := range in.Environment.Variables {
			vars[k] = v
		}
		if n := handler.EnvSize(vars); n > handler.EnvLimitBytes {
			return fmt.Errorf("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %d bytes", n)
		}
		c.Environment = &Environment{Variables: vars}
	}
	if len(in.Architectures) > 0 {
		if len(in.Architectures) != 1 || (in.Architectures[0] != "x86_64" && in.Architectures[0] != "arm64") {
			return fmt.Errorf("Architectures %v: one of x86_64, arm64", in.Architectures)
		}
		c.Architectures = []string{in.Architectures[0]}
	}
	if in.LoggingConfig != nil && in.LoggingConfig.LogFormat != "" {
		c.LoggingConfig.LogFormat = in.LoggingConfig.LogFormat
	}
	return nil
}

func (s *Server) setCode(c *FunctionConfiguration, zip []byte) {
	sum := sha256.Sum256(zip)
	c.CodeSha256 = base64.StdEncoding.EncodeToString(sum[:])
	c.CodeSize = int64(len(zip))
}

// changed records a change of f (under s.mu): new revision and modification
// time, pending polls, and the backend's setup is out of date.
func (s *Server) changed(f *function) {
	s.revision++
	s.gen++
	f.cfg.RevisionID = strconv.Itoa(s.revision)
	f.cfg.LastModified = s.cfg.Now().UTC().Format(lastModifiedLayout)
	f.pending = s.cfg.PendingPolls
}

func (s *Server) updateFunction(w http.ResponseWriter, r *http.Request, name string, code bool) {
	var in functionInput
	if err := readJSON(r, &in); err != nil {
		invalid(w, "request body: "+err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.functions[name]
	if !ok {
		notFound(w, s, name)
		return
	}
	if f.pending > 0 {
		writeRESTError(w, http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. An update is in progress for resource: "+f.cfg.FunctionArn)
		return
	}
	c := f.cfg
	if code {
		if len(in.ZipFile) == 0 {
			invalid(w, "ZipFile: a zip package is required (the stand-in does not read S3)")
			return
		}
		s.setCode(&c, in.ZipFile)
		if len(in.Architectures) > 0 {
			if err := s.apply(&c, &functionInput{Architectures: in.Architectures}); err != nil {
				invalid(w, err.Error())
				return
			}
		}
	} else if err := s.apply(&c, &in); err != nil {
		invalid(w, err.Error())
		return
	}
	f.cfg = c
	s.changed(f)
	s.registerGroup(f.cfg)
	f.cfg.LastUpdateStatus = "Successful"
	if f.pending > 0 {
		f.cfg.LastUpdateStatus = "InProgress"
	}
	writeLambdaJSON(w, http.StatusOK, f.cfg)
}

// poll returns f's configuration as a Get sees it, moving a pending change
// one poll closer to done (under s.mu).
func (f *function) poll() FunctionConfiguration {
	if f.pending > 0 {
		f.pending--
		if f.pending == 0 {
			f.cfg.State, f.cfg.LastUpdateStatus = "Active", "Successful"
		}
	}
	return f.cfg
}

func (s *Server) getFunction(w http.ResponseWriter, name string, configOnly bool) {
	s.mu.Lock()
	f, ok := s.functions[name]
	var c FunctionConfiguration
	if ok {
		c = f.poll()
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, s, name)
		return
	}
	if configOnly {
		writeLambdaJSON(w, http.StatusOK, c)
		return
	}
	writeLambdaJSON(w, http.StatusOK, map[string]any{
		"Configuration": c,
		"Code":          map[string]string{"RepositoryType": "S3", "Location": "https://awslambda-stand-in.invalid/" + name},
	})
}

func (s *Server) deleteFunction(w http.ResponseWriter, name string) {
	s.mu.Lock()
	_, ok := s.functions[name]
	delete(s.functions, name)
	if ok {
		s.gen++
	}
	s.mu.Unlock()
	if !ok {
		notFound(w, s, name)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listFunctions(w http.ResponseWriter, r *http.Request) {
	marker := r.URL.Query().Get("Marker")
	max := 50
	if v := r.URL.Query().Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			invalid(w, fmt.Sprintf("MaxItems %q: 1 to 10000", v))
			return
		}
		max = n
	}
	s.mu.Lock()
	names := make([]string, 0, len(s.functions))
	for n := range s.functions {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if marker != "" {
		start = sort.SearchStrings(names, marker)
	}
	var out []FunctionConfiguration
	next := ""
	for i := start; i < len(names); i++ {
		if len(out) == max {
			next = names[i]
			break
		}
		out = append(out, s.functions[names[i]].cfg)
	}
	s.mu.Unlock()
	body := map[string]any{"Functions": out}
	if out == nil {
		body["Functions"] = []FunctionConfiguration{}
	}
	if next != "" {
		body["NextMarker"] = next
	}
	writeLambdaJSON(w, http.StatusOK, body)
}

func writeLambdaJSON(w http.ResponseWriter, status int, v any) {
	writeAWSJSON(w, "application/json", status, v, false)
}

// Functions returns the configurations of the functions, by name.
func (s *Server) Functions() []FunctionConfiguration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]FunctionConfiguration, 0, len(s.functions))
	for _, f := range s.functions {
		out = append(out, f.cfg)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FunctionName < out[j].FunctionName })
	return out
}
