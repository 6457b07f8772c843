package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/aws/handler"
)

// Resources are the AWS resources of a deployment.
type Resources struct {
	Functions []string // function names
	Tables    []string // DynamoDB table names
	LogGroups []string // CloudWatch Logs group names
}

// Empty reports whether there is nothing.
func (r Resources) Empty() bool {
	return len(r.Functions) == 0 && len(r.Tables) == 0 && len(r.LogGroups) == 0
}

// TeardownConfig says what Teardown removes: every function named
// <Prefix>fusion-function-*, the tables <Prefix><table> and the log groups
// /aws/lambda/<Prefix>fusion-function-*.
type TeardownConfig struct {
	// Config gives the prefix, the tables, the region, the credentials and
	// the endpoint (App and Workload are not needed).
	Config
	// DryRun only lists the resources.
	DryRun bool
}

// Teardown finds the deployment's resources by name prefix and, unless
// DryRun, deletes them. It returns what it deleted (with DryRun, what it
// found); errors of single deletions are joined.
func Teardown(ctx context.Context, tc TeardownConfig) (Resources, error) {
	c := tc.Config.withDefaults()
	if err := handler.ValidatePrefix(c.Prefix); err != nil {
		return Resources{}, fmt.Errorf("%w: --aws-prefix: %v", ErrConfig, err)
	}
	if c.EndpointURL != "" && !strings.HasPrefix(c.EndpointURL, "http://") && !strings.HasPrefix(c.EndpointURL, "https://") {
		return Resources{}, fmt.Errorf("%w: --endpoint-url %q: an http:// or https:// URL", ErrConfig, c.EndpointURL)
	}
	cl, err := newClients(ctx, c)
	if err != nil {
		return Resources{}, err
	}
	found, err := findResources(ctx, cl, c)
	if err != nil || tc.DryRun {
		return found, err
	}
	var done Resources
	var errs []error
	for _, name := range found.Functions {
		fmt.Fprintf(c.Log, "deleting function %s\n", name)
		_, err := cl.lambda.DeleteFunction(ctx, &lambdasvc.DeleteFunctionInput{FunctionName: &name})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			errs = append(errs, fmt.Errorf("deleting function %s: %w", name, err))
			continue
		}
		done.Functions = append(done.Functions, name)
	}
	for _, name := range found.Tables {
		fmt.Fprintf(c.Log, "deleting table %s\n", name)
		_, err := cl.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name})
		var nf *ddbtypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			errs = append(errs, fmt.Errorf("deleting table %s: %w", name, err))
			continue
		}
		done.Tables = append(done.Tables, name)
	}
	// Log groups last: a function deleted while it still ran could write
	// one more line.
	for _, name := range found.LogGroups {
		fmt.Fprintf(c.Log, "deleting log group %s\n", name)
		_, err := cl.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: &name})
		var nf *cwtypes.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			errs = append(errs, fmt.Errorf("deleting log group %s: %w", name, err))
			continue
		}
		done.LogGroups = append(done.LogGroups, name)
	}
	return done, errors.Join(errs...)
}

// findResources lists the resources of the prefix.
func findResources(ctx context.Context, cl *clients, c Config) (Resources, error) {
	var res Resources
	fnPrefix := c.Prefix + fusionsim.FunctionPrefix
	fns := lambdasvc.NewListFunctionsPaginator(cl.lambda, &lambdasvc.ListFunctionsInput{})
	for fns.HasMorePages() {
		out, err := fns.NextPage(ctx)
		if err != nil {
			return res, fmt.Errorf("listing functions: %w", err)
		}
		for _, f := range out.Functions {
			if name := deref(f.FunctionName); strings.HasPrefix(name, fnPrefix) {
				res.Functions = append(res.Functions, name)
			}
		}
	}
	for _, t := range c.Tables {
		name := handler.TableName(c.Prefix, t)
		_, err := cl.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		var nf *ddbtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return res, fmt.Errorf("table %s: %w", name, err)
		default:
			res.Tables = append(res.Tables, name)
		}
	}
	groups := cloudwatchlogs.NewDescribeLogGroupsPaginator(cl.logs, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: ptr(LogGroup(fnPrefix)),
	})
	for groups.HasMorePages() {
		out, err := groups.NextPage(ctx)
		if err != nil {
			return res, fmt.Errorf("listing log groups: %w", err)
		}
		for _, g := range out.LogGroups {
			res.LogGroups = append(res.LogGroups, deref(g.LogGroupName))
		}
	}
	sort.Strings(res.Functions)
	sort.Strings(res.LogGroups)
	return res, nil
}
