package handler

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/fusionsim/fusionsim"
)

// Attribute names of the prototype's tables.
const (
	KeyAttribute     = "SensorID" // number, the partition key
	MessageAttribute = "Message"  // string
)

// Store is the part of the DynamoDB client the tasks' storage calls use
// (*dynamodb.Client implements it).
type Store interface {
	PutItem(ctx context.Context, params *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

func keyOf(key int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberN{Value: strconv.FormatInt(key, 10)}}
}

// Tables runs the storage operations of fusionsim.Context on DynamoDB
// tables named prefix+table.
type Tables struct {
	DB     Store
	Prefix string
}

// Put stores item (PutItem).
func (t Tables) Put(ctx context.Context, table string, item fusionsim.Item) error {
	av := keyOf(item.Key)
	av[MessageAttribute] = &types.AttributeValueMemberS{Value: item.Message}
	name := TableName(t.Prefix, table)
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &name, Item: av}); err != nil {
		return fmt.Errorf("put into %s: %w", name, err)
	}
	return nil
}

// Get reads the item with key (GetItem).
func (t Tables) Get(ctx context.Context, table string, key int64) (fusionsim.Item, bool, error) {
	name := TableName(t.Prefix, table)
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: keyOf(key)})
	if err != nil {
		return fusionsim.Item{}, false, fmt.Errorf("get from %s: %w", name, err)
	}
	if out.Item == nil {
		return fusionsim.Item{}, false, nil
	}
	it, err := itemOf(out.Item)
	if err != nil {
		return fusionsim.Item{}, false, fmt.Errorf("get from %s: %w", name, err)
	}
	return it, true, nil
}

// Query returns the items with key (Query on the partition key, every page).
func (t Tables) Query(ctx context.Context, table string, key int64) ([]fusionsim.Item, error) {
	name := TableName(t.Prefix, table)
	in := &dynamodb.QueryInput{
		TableName:                 &name,
		KeyConditionExpression:    ptr("#k = :k"),
		ExpressionAttributeNames:  map[string]string{"#k": KeyAttribute},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": keyOf(key)[KeyAttribute]},
	}
	var items []fusionsim.Item
	p := dynamodb.NewQueryPaginator(t.DB, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", name, err)
		}
		for _, av := range out.Items {
			it, err := itemOf(av)
			if err != nil {
				return nil, fmt.Errorf("query %s: %w", name, err)
			}
			items = append(items, it)
		}
	}
	return items, nil
}

// Delete removes the item with key (DeleteItem).
func (t Tables) Delete(ctx context.Context, table string, key int64) error {
	name := TableName(t.Prefix, table)
	if _, err := t.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &name, Key: keyOf(key)}); err != nil {
		return fmt.Errorf("delete from %s: %w", name, err)
	}
	return nil
}

func itemOf(av map[string]types.AttributeValue) (fusionsim.Item, error) {
	var it fusionsim.Item
	n, ok := av[KeyAttribute].(*types.AttributeValueMemberN)
	if !ok {
		return it, fmt.Errorf("item without numeric %s", KeyAttribute)
	}
	k, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return it, fmt.Errorf("%s %q: %w", KeyAttribute, n.Value, err)
	}
	it.Key = k
	if s, ok := av[MessageAttribute].(*types.AttributeValueMemberS); ok {
		it.Message = s.Value
	}
	return it, nil
}

func ptr[T any](v T) *T { return &v }
