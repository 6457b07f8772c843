// Command lambda is the fusion handler as an AWS Lambda function for the
// provided.al2023 runtime: the bootstrap of the function package the AWS
// backend (package aws) deploys once per (entry task, memory size).
//
// It reads its configuration from the environment (see package
// aws/handler: FUSION_APP, FUNCTION_TO_HANDLE, FUSION_SETUP, FUSION_RULES,
// FUSION_PREFIX), runs the application's real task code, calls remote tasks
// through the Lambda Invoke API, stores items in DynamoDB and writes the
// prototype's FSMSG log lines to stdout. The AWS SDK takes its region,
// credentials (the function's role) and endpoints (AWS_ENDPOINT_URL) from the
// standard configuration.
//
// Build it for Lambda with
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/lambda
//
// ("make lambda-zip" builds both architectures' packages). Outside Lambda
// (no AWS_LAMBDA_RUNTIME_API) it exits with an error.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/fusionsim/fusionsim"
	"github.com/fusionsim/fusionsim/appfile"
	"github.com/fusionsim/fusionsim/aws/handler"
)

func main() {
	initStart := time.Now()
	h, err := setup(context.Background(), initStart)
	if err != nil {
		// An error in the INIT phase: Lambda reports Runtime.ExitError and
		// the log group keeps this line.
		fmt.Fprintln(os.Stderr, "fusion handler:", err)
		os.Exit(1)
	}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		fmt.Fprintln(os.Stderr, "fusion handler: AWS_LAMBDA_RUNTIME_API is not set: this program runs inside AWS Lambda (or a Runtime API emulator)")
		os.Exit(1)
	}
	lambda.Start(h)
}

// setup reads the configuration and makes the handler with the SDK's
// clients.
func setup(ctx context.Context, initStart time.Time) (*handler.Handler, error) {
	cfg, err := handler.ConfigFromEnv(os.LookupEnv, func(name string) (*fusionsim.App, error) {
		w, err := appfile.Get(name)
		if err != nil {
			return nil, err
		}
		return w.App, nil
	})
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return handler.New(cfg, lambdasvc.NewFromConfig(awsCfg), dynamodb.NewFromConfig(awsCfg), os.Stdout, initStart, handler.Options{})
}
