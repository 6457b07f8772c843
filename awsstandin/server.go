package awsstandin

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fusionsim/fusionsim"
)

// Account and region of the ARNs the stand-in makes.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
)

// Config configures a Server.
type Config struct {
	// Backend runs invocations and holds the logs (nil: Invoke answers 501
	// and log groups are empty).
	Backend Backend
	// Upstream, when set, serves every request the stand-in does not
	// handle (e.g. the emulator's own routes).
	Upstream http.Handler
	// Region and Account appear in ARNs (DefaultRegion, DefaultAccount).
	Region, Account string
	// LogPageSize is the number of events per FilterLogEvents page (0:
	// 1000; AWS returns up to 10,000). Small pages exercise pagination.
	LogPageSize int
	// PendingPolls is the number of GetFunction/GetFunctionConfiguration
	// calls that report a new function as Pending, or an update as
	// InProgress, before it is Active/Successful (0: at once). It makes
	// clients' waiters wait.
	PendingPolls int
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Log receives notices: deployments on the backend, errors (nil:
	// discarded).
	Log io.Writer
}

// Server is the stand-in. Serve it with http.Serve or httptest.
type Server struct {
	cfg Config
	log *log.Logger

	mu            sync.Mutex
	functions     map[string]*function // by name
	groups        map[string]*logGroup // by log group name
	tables        map[string]*table    // by name
	gen           uint64               // bumped by every function change
	deployed      uint64               // gen last deployed on the backend
	deployedSetup string               // the setup deployed on the backend
	deployMu      sync.Mutex           // one deployment at a time
	revision      int
	counts        map[string]int // requests by operation
}

// New makes a stand-in.
func New(cfg Config) *Server {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	if cfg.LogPageSize <= 0 {
		cfg.LogPageSize = 1000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Server{
		cfg:       cfg,
		log:       log.New(cfg.Log, "awsstandin: ", 0),
		functions: map[string]*function{},
		groups:    map[string]*logGroup{},
		tables:    map[string]*table{},
		counts:    map[string]int{},
	}
}

// Counts returns how many requests of each operation the stand-in served,
// e.g. "lambda.CreateFunction", "logs.FilterLogEvents",
// "dynamodb.PutItem".
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

func (s *Server) count(op string) {
	s.mu.Lock()
	s.counts[op]++
	s.mu.Unlock()
}

// lambdaPrefix starts the paths of the Lambda API.
const lambdaPrefix = "/2015-03-31/functions"

// ServeHTTP dispatches by X-Amz-Target (CloudWatch Logs, DynamoDB) or path
// (Lambda); anything else goes to Upstream, or is a 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Amzn-RequestId", newUUID())
	target := r.Header.Get("X-Amz-Target")
	switch {
	case strings.HasPrefix(target, logsTargetPrefix):
		s.serveLogs(w, r, strings.TrimPrefix(target, logsTargetPrefix))
	case strings.HasPrefix(target, dynamoTargetPrefix):
		s.serveDynamo(w, r, strings.TrimPrefix(target, dynamoTargetPrefix))
	case r.URL.Path == lambdaPrefix || strings.HasPrefix(r.URL.Path, lambdaPrefix+"/"):
		s.serveLambda(w, r)
	case s.cfg.Upstream != nil:
		s.cfg.Upstream.ServeHTTP(w, r)
	default:
		writeRESTError(w, http.StatusNotFound, "UnknownOperationException", fmt.Sprintf("the AWS stand-in has no operation %s %s (target %q)", r.Method, r.URL.Path, target))
	}
}

// readJSON decodes a request body into v.
func readJSON(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 100<<20))
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		b = []byte("{}")
	}
	return json.Unmarshal(b, v)
}

// writeRESTError answers in the Lambda REST JSON error format.
func writeRESTError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "Message": msg, "message": msg})
}

// writeAWSJSON answers a JSON 1.0/1.1 request; crc adds DynamoDB's
// X-Amz-Crc32 header.
func writeAWSJSON(w http.ResponseWriter, contentType string, status int, v any, crc bool) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"InternalFailure","message":"encoding the answer"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if crc {
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(b)), 10))
	}
	w.WriteHeader(status)
	w.Write(b)
}

// writeJSONError answers a JSON 1.0/1.1 error: __type and message.
func writeJSONError(w http.ResponseWriter, contentType string, status int, typ, msg string, crc bool) {
	w.Header().Set("X-Amzn-ErrorType", typ)
	writeAWSJSON(w, contentType, status, map[string]string{"__type": typ, "message": msg}, crc)
}

func newUUID() string {
	var b [16]byte
	randRead(b[:])
	return fusionsim.FormatRequestID(b)
}
