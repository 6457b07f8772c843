package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
	"github.com/fusionsim/fusionsim/workloads"
)

// Architectures of Lambda functions.
const (
	X86   = "x86_64"
	Arm64 = "arm64"
)

// Runtime is the Lambda runtime of the fusion functions: an OS-only runtime
// running the Go bootstrap.
const Runtime = "provided.al2023"

// DefaultTables are the DynamoDB tables of the prototype's workloads.
var DefaultTables = []string{workloads.SensorDataTable, workloads.UseCaseTable}

// ErrConfig is wrapped by the errors of Config.Validate.
var ErrConfig = errors.New("aws backend configuration")

// Config configures the AWS backend. Fields are named after the flags of
// "simulate --backend aws" (--aws-region, ...).
type Config struct {
	// App is the application; Workload its name in package workloads, which
	// the functions look up (FUSION_APP).
	App      *fusionsim.App
	Workload string

	// Region and Profile override the standard AWS configuration
	// (AWS_REGION, AWS_PROFILE, ~/.aws/config).
	Region, Profile string
	// EndpointURL, when set, is the base endpoint of every client (Lambda,
	// CloudWatch Logs, DynamoDB), e.g. a local stand-in. AWS_ENDPOINT_URL
	// does the same through the standard configuration.
	EndpointURL string
	// Credentials, when set, replaces the standard credential chain (tests
	// use static dummy credentials).
	Credentials sdk.CredentialsProvider

	// RoleARN is the execution role of the functions (required to create
	// them).
	RoleARN string
	// Architecture is X86 (default, as the prototype) or Arm64.
	Architecture string
	// Prefix starts the names of the functions and tables ("" for the
	// prototype's names).
	Prefix string
	// MemorySizes, when set, are the only memory sizes a setup may use, in
	// MB (new AWS accounts are limited to 3008 MB).
	MemorySizes []int
	// TimeoutS is the functions' timeout in seconds (default 60).
	TimeoutS int
	// MaxCallDepth bounds call chains in the functions (0: the handler's
	// default).
	MaxCallDepth int
	// Tables are the DynamoDB tables to create if missing (default
	// DefaultTables; set NoTables for none).
	Tables   []string
	NoTables bool
	// Package is the function package (a zip holding "bootstrap"); empty:
	// BuildPackage builds cmd/lambda from the module in ModuleDir (default
	// the working directory) with the go command.
	Package   string
	ModuleDir string

	// Settle says how Run waits for the end of every invocation.
	Settle Settle
	// Concurrency bounds parallel control-plane calls (default 4).
	Concurrency int
	// WaitMinDelay and WaitMaxTime configure the waits for functions to be
	// Active or updated (default 1 s and 5 min).
	WaitMinDelay, WaitMaxTime time.Duration

	// Log receives progress notices (nil: discarded).
	Log io.Writer
	// Progress, when set, is called as the responses of Run come in.
	Progress func(done, total int)
}

// Settle configures how Run decides that every invocation has ended.
type Settle struct {
	// Quiet is how long the logs must show no new invocation, with every
	// START matched by a REPORT (default 15 s: CloudWatch Logs delivers
	// lines seconds late).
	Quiet time.Duration
	// Poll is the time between two reads of the logs (default 5 s).
	Poll time.Duration
	// Max bounds the wait after the last response (default 10 min); when it
	// runs out Run goes on with a notice, and unfinished invocations show
	// as incomplete in the extraction.
	Max time.Duration
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Architecture == "" {
		c.Architecture = X86
	}
	if c.TimeoutS == 0 {
		c.TimeoutS = 60
	}
	if c.Tables == nil && !c.NoTables {
		c.Tables = DefaultTables
	}
	if c.NoTables {
		c.Tables = nil
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.WaitMinDelay <= 0 {
		c.WaitMinDelay = time.Second
	}
	if c.WaitMaxTime <= 0 {
		c.WaitMaxTime = 5 * time.Minute
	}
	if c.Settle.Quiet <= 0 {
		c.Settle.Quiet = 15 * time.Second
	}
	if c.Settle.Poll <= 0 {
		c.Settle.Poll = 5 * time.Second
	}
	if c.Settle.Max <= 0 {
		c.Settle.Max = 10 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Validate checks the configuration; errors name the flag.
func (c Config) Validate() error {
	if c.App == nil || c.Workload == "" {
		return fmt.Errorf("%w: no application", ErrConfig)
	}
	if c.Architecture != X86 && c.Architecture != Arm64 {
		return fmt.Errorf("%w: --aws-arch %q: %s or %s", ErrConfig, c.Architecture, X86, Arm64)
	}
	if err := handler.ValidatePrefix(c.Prefix); err != nil {
		return fmt.Errorf("%w: --aws-prefix: %v", ErrConfig, err)
	}
	if c.RoleARN != "" && !strings.HasPrefix(c.RoleARN, "arn:") {
		return fmt.Errorf("%w: --aws-role-arn %q is not an ARN (arn:aws:iam::<account>:role/<name>)", ErrConfig, c.RoleARN)
	}
	for _, mb := range c.MemorySizes {
		if mb < fusionsim.MinMemoryMB || mb > fusionsim.MaxMemoryMB {
			return fmt.Errorf("%w: --aws-memory-sizes: %d MB is outside %d..%d", ErrConfig, mb, fusionsim.MinMemoryMB, fusionsim.MaxMemoryMB)
		}
	}
	if c.TimeoutS < 1 || c.TimeoutS > 900 {
		return fmt.Errorf("%w: --aws-timeout %ds: 1 to 900 s", ErrConfig, c.TimeoutS)
	}
	if c.EndpointURL != "" && !strings.HasPrefix(c.EndpointURL, "http://") && !strings.HasPrefix(c.EndpointURL, "https://") {
		return fmt.Errorf("%w: --endpoint-url %q: an http:// or https:// URL", ErrConfig, c.EndpointURL)
	}
	return nil
}

// checkMemory checks a function's memory size against MemorySizes.
func (c Config) checkMemory(id fusionsim.FunctionID) error {
	if len(c.MemorySizes) > 0 && !slices.Contains(c.MemorySizes, id.MemoryMB) {
		return fmt.Errorf("%w: function %s: %d MB is not one of --aws-memory-sizes %v", ErrConfig, id, id.MemoryMB, c.MemorySizes)
	}
	return nil
}

// clients are the SDK clients of the backend.
type clients struct {
	lambda *lambdasvc.Client
	logs   *cloudwatchlogs.Client
	ddb    *dynamodb.Client
	region string
}

// newClients loads the standard AWS configuration with the overrides of c.
func newClients(ctx context.Context, c Config) (*clients, error) {
	opts := []func(*config.LoadOptions) error{
		// Many requests in flight at once (the load): keep connections.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 1024
			t.MaxIdleConnsPerHost = 1024
		})),
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.Profile))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("%w: no AWS region: give --aws-region or set AWS_REGION (or a region in the AWS profile)", ErrConfig)
	}
	var base *string
	if c.EndpointURL != "" {
		base = sdk.String(c.EndpointURL)
	}
	cl := &clients{region: awsCfg.Region}
	cl.lambda = lambdasvc.NewFromConfig(awsCfg, func(o *lambdasvc.Options) {
		if base != nil {
			o.BaseEndpoint = base
		}
	})
	cl.logs = cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) {
		if base != nil {
			o.BaseEndpoint = base
		}
		// FilterLogEvents is limited to a few requests per second per
		// account: let the SDK back off and retry longer.
		o.RetryMaxAttempts = 10
	})
	cl.ddb = dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		if base != nil {
			o.BaseEndpoint = base
		}
	})
	return cl, nil
}
