package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	sdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// Platform runs setups on AWS Lambda. Create it with New. Its methods may be
// called from one goroutine at a time (as package experiment does).
type Platform struct {
	cfg Config
	cl  *clients

	pkg []byte // the function package, loaded by the first Deploy
	sha string // its CodeSha256

	logMu sync.Mutex // serializes notices

	mu         sync.Mutex
	setup      *fusionsim.Setup
	deployment string                        // FUSION_DEPLOYMENT of the functions now
	current    map[fusionsim.FunctionID]bool // functions carrying setup and deployment
	names      map[string]bool               // every function deployed by this platform
	tables     bool                          // the tables exist
	seq        int
}

var _ fusionsim.Platform = (*Platform)(nil)

// New checks cfg and connects the SDK clients. It calls no AWS API: the
// package is built and the tables are created by the first Deploy.
func New(ctx context.Context, cfg Config) (*Platform, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cl, err := newClients(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Platform{
		cfg: cfg, cl: cl,
		current: map[fusionsim.FunctionID]bool{},
		names:   map[string]bool{},
	}, nil
}

// Region is the AWS region of the clients.
func (p *Platform) Region() string { return p.cl.region }

// Now is the wall clock, which bounds each iteration's logs.
func (p *Platform) Now() time.Time { return time.Now() }

// Setup returns the deployed setup (nil before Deploy).
func (p *Platform) Setup() *fusionsim.Setup {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.setup
}

// FunctionNames lists the functions this platform has deployed, sorted.
func (p *Platform) FunctionNames() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return sortedKeys(p.names)
}

// notice writes a line to Config.Log (from any goroutine).
func (p *Platform) notice(format string, args ...any) {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	fmt.Fprintf(p.cfg.Log, format+"\n", args...)
}

// newDeployment makes a FUSION_DEPLOYMENT value never used before by this
// platform (under p.mu).
func (p *Platform) newDeployment() string {
	p.seq++
	return strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(p.seq)
}

// Deploy makes setup the configuration of the functions it needs (see
// Functions), creating the missing ones and the tables, and waits until
// every function is updated. Every function starts cold.
func (p *Platform) Deploy(ctx context.Context, setup *fusionsim.Setup) error {
	if err := p.cfg.App.CheckSetup(setup); err != nil {
		return err
	}
	ids, err := Functions(p.cfg.App, setup)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.cfg.checkMemory(id); err != nil {
			return fmt.Errorf("setup %s: %w", setup.Name(), err)
		}
		// Check every environment's size before changing anything.
		if _, err := handler.Environment(p.cfg.Workload, id, setup, p.cfg.Prefix, p.cfg.MaxCallDepth, "x"); err != nil {
			return err
		}
	}
	if err := p.ensurePackage(ctx); err != nil {
		return err
	}
	if err := p.ensureTables(ctx); err != nil {
		return err
	}
	p.mu.Lock()
	deployment := p.newDeployment()
	p.setup, p.deployment = setup, deployment
	p.current = map[fusionsim.FunctionID]bool{}
	p.mu.Unlock()
	p.notice("deploying setup %s: %d function(s)", setup.Name(), len(ids))
	return p.forEach(ctx, ids, func(id fusionsim.FunctionID) error {
		return p.deployFunction(ctx, id, setup, deployment)
	})
}

// ForceCold updates the deployment's configuration (FUSION_DEPLOYMENT), which
// makes Lambda discard every execution environment, and waits until done.
// Invocations running go on in their environments.
func (p *Platform) ForceCold(ctx context.Context) error {
	p.mu.Lock()
	setup := p.setup
	if setup == nil {
		p.mu.Unlock()
		return fusionsim.ErrNotDeployed
	}
	ids := sortedIDs(p.current)
	deployment := p.newDeployment()
	p.deployment = deployment
	p.current = map[fusionsim.FunctionID]bool{}
	p.mu.Unlock()
	return p.forEach(ctx, ids, func(id fusionsim.FunctionID) error {
		return p.deployFunction(ctx, id, setup, deployment)
	})
}

// forEach runs f for every id, Config.Concurrency at a time, and returns
// the errors joined.
func (p *Platform) forEach(ctx context.Context, ids []fusionsim.FunctionID, f func(fusionsim.FunctionID) error) error {
	sem := make(chan struct{}, p.cfg.Concurrency)
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			errs[i] = f(id)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (p *Platform) ensurePackage(ctx context.Context) error {
	if p.pkg != nil {
		return nil
	}
	pkg, err := loadPackage(ctx, p.cfg)
	if err != nil {
		return err
	}
	p.pkg, p.sha = pkg, CodeSha256(pkg)
	p.notice("function package: %d bytes, CodeSha256 %s", len(pkg), p.sha)
	return nil
}

// ensureTables creates the missing tables (PAY_PER_REQUEST, key SensorID)
// and waits until they are active.
func (p *Platform) ensureTables(ctx context.Context) error {
	if p.tables {
		return nil
	}
	for _, t := range p.cfg.Tables {
		name := handler.TableName(p.cfg.Prefix, t)
		_, err := p.cl.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		var nf *ddbtypes.ResourceNotFoundException
		switch {
		case err == nil:
			continue
		case !errors.As(err, &nf):
			return fmt.Errorf("table %s: %w", name, err)
		}
		p.notice("creating table %s", name)
		_, err = p.cl.ddb.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:            &name,
			BillingMode:          ddbtypes.BillingModePayPerRequest,
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: sdk.String(handler.KeyAttribute), KeyType: ddbtypes.KeyTypeHash}},
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: sdk.String(handler.KeyAttribute), AttributeType: ddbtypes.ScalarAttributeTypeN}},
		})
		var inUse *ddbtypes.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("creating table %s: %w", name, err)
		}
		w := dynamodb.NewTableExistsWaiter(p.cl.ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = p.cfg.WaitMinDelay })
		if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, p.cfg.WaitMaxTime); err != nil {
			return fmt.Errorf("waiting for table %s: %w", name, err)
		}
	}
	p.tables = true
	return nil
}

// deployFunction creates function id or updates its code (when it differs)
// and its configuration, and waits until it is ready.
func (p *Platform) deployFunction(ctx context.Context, id fusionsim.FunctionID, setup *fusionsim.Setup, deployment string) error {
	name := handler.FunctionName(p.cfg.Prefix, id)
	env, err := handler.Environment(p.cfg.Workload, id, setup, p.cfg.Prefix, p.cfg.MaxCallDepth, deployment)
	if err != nil {
		return err
	}
	arch := types.Architecture(p.cfg.Architecture)
	desc := fmt.Sprintf("fusionsim: entry task %s of %s (fusion handler, %s)", id.Task, p.cfg.Workload, HandlerPackage)
	got, err := p.cl.lambda.GetFunction(ctx, &lambdasvc.GetFunctionInput{FunctionName: &name})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		if p.cfg.RoleARN == "" {
			return fmt.Errorf("%w: --aws-role-arn is required to create function %s", ErrConfig, name)
		}
		p.notice("creating function %s", name)
		_, err = p.cl.lambda.CreateFunction(ctx, &lambdasvc.CreateFunctionInput{
			FunctionName:  &name,
			Role:          &p.cfg.RoleARN,
			Runtime:       types.RuntimeProvidedal2023,
			Handler:       sdk.String("bootstrap"),
			Code:          &types.FunctionCode{ZipFile: p.pkg},
			PackageType:   types.PackageTypeZip,
			Architectures: []types.Architecture{arch},
			MemorySize:    sdk.Int32(int32(id.MemoryMB)),
			Timeout:       sdk.Int32(int32(p.cfg.TimeoutS)),
			Environment:   &types.Environment{Variables: env},
			LoggingConfig: &types.LoggingConfig{LogFormat: types.LogFormatText},
			Description:   &desc,
		})
		if err != nil {
			return fmt.Errorf("creating function %s: %w", name, err)
		}
		p.remember(id, name)
		w := lambdasvc.NewFunctionActiveV2Waiter(p.cl.lambda, func(o *lambdasvc.FunctionActiveV2WaiterOptions) { o.MinDelay = p.cfg.WaitMinDelay })
		if err := w.Wait(ctx, &lambdasvc.GetFunctionInput{FunctionName: &name}, p.cfg.WaitMaxTime); err != nil {
			return fmt.Errorf("waiting for function %s to be active: %w", name, err)
		}
		p.done(id, deployment)
		return nil
	case err != nil:
		return fmt.Errorf("function %s: %w", name, err)
	}
	p.remember(id, name)
	c := got.Configuration
	if c.State == types.StatePending || c.LastUpdateStatus == types.LastUpdateStatusInProgress {
		if err := p.waitUpdated(ctx, name); err != nil {
			return err
		}
	}
	if sdk.ToString(c.CodeSha256) != p.sha || len(c.Architectures) != 1 || c.Architectures[0] != arch {
		p.notice("updating the code of %s", name)
		err := p.retryConflict(ctx, name, func() error {
			_, err := p.cl.lambda.UpdateFunctionCode(ctx, &lambdasvc.UpdateFunctionCodeInput{
				FunctionName: &name, ZipFile: p.pkg, Architectures: []types.Architecture{arch},
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("updating the code of %s: %w", name, err)
		}
		if err := p.waitUpdated(ctx, name); err != nil {
			return err
		}
	}
	err = p.retryConflict(ctx, name, func() error {
		_, err := p.cl.lambda.UpdateFunctionConfiguration(ctx, &lambdasvc.UpdateFunctionConfigurationInput{
			FunctionName:  &name,
			Role:          roleOr(p.cfg.RoleARN, c.Role),
			Runtime:       types.RuntimeProvidedal2023,
			Handler:       sdk.String("bootstrap"),
			MemorySize:    sdk.Int32(int32(id.MemoryMB)),
			Timeout:       sdk.Int32(int32(p.cfg.TimeoutS)),
			Environment:   &types.Environment{Variables: env},
			LoggingConfig: &types.LoggingConfig{LogFormat: types.LogFormatText},
			Description:   &desc,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating the configuration of %s: %w", name, err)
	}
	if err := p.waitUpdated(ctx, name); err != nil {
		return err
	}
	p.done(id, deployment)
	return nil
}

func roleOr(role string, current *string) *string {
	if role != "" {
		return &role
	}
	return current
}

// retryConflict runs f, and once more after waiting for the function's
// update when Lambda answers that an update is in progress.
func (p *Platform) retryConflict(ctx context.Context, name string, f func() error) error {
	err := f()
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		return err
	}
	if werr := p.waitUpdated(ctx, name); werr != nil {
		return errors.Join(err, werr)
	}
	return f()
}

func (p *Platform) waitUpdated(ctx context.Context, name string) error {
	w := lambdasvc.NewFunctionUpdatedV2Waiter(p.cl.lambda, func(o *lambdasvc.FunctionUpdatedV2WaiterOptions) { o.MinDelay = p.cfg.WaitMinDelay })
	if err := w.Wait(ctx, &lambdasvc.GetFunctionInput{FunctionName: &name}, p.cfg.WaitMaxTime); err != nil {
		return fmt.Errorf("waiting for the update of %s: %w", name, err)
	}
	return nil
}

func (p *Platform) remember(id fusionsim.FunctionID, name string) {
	p.mu.Lock()
	p.names[name] = true
	p.mu.Unlock()
}

// done marks id as carrying the deployment, unless a newer one started.
func (p *Platform) done(id fusionsim.FunctionID, deployment string) {
	p.mu.Lock()
	if p.deployment == deployment {
		p.current[id] = true
	}
	p.mu.Unlock()
}

func sortedIDs(m map[fusionsim.FunctionID]bool) []fusionsim.FunctionID {
	out := make([]fusionsim.FunctionID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}
