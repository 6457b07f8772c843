package workloads

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/fusionsim/fusionsim"
)

// The webshop application (docs/webshop.md, workloads/webshop-notes.md):
// the prototype's third use case, a small online shop after Google's
// "Online Boutique", as 17 tasks. Its figures are read off the real traces
// of one Fusionize++ run (calibration/webshop-generateConfigurations-
// fixedcheckout-m-4-x-111-x-3) with "simulate describe"; webshop-notes.md
// lists them with the command.

// Webshop task names.
const (
	WebshopFrontend            = "frontend"
	WebshopAddCartItem         = "addcartitem"
	WebshopCartKVStorage       = "cartkvstorage"
	WebshopCheckout            = "checkout"
	WebshopCurrency            = "currency"
	WebshopEmail               = "email"
	WebshopEmptyCart           = "emptycart"
	WebshopGetAds              = "getads"
	WebshopGetCart             = "getcart"
	WebshopGetProduct          = "getproduct"
	WebshopListProducts        = "listproducts"
	WebshopListRecommendations = "listrecommendations"
	WebshopPayment             = "payment"
	WebshopSearchProducts      = "searchproducts"
	WebshopShipmentQuote       = "shipmentquote"
	WebshopShipOrder           = "shiporder"
	WebshopSupportedCurrencies = "supportedcurrencies"
)

// WebshopEntries are the webshop's entry tasks, the routes its load calls:
// frontend (App.Entry: operations "get" and "checkout") and addcartitem.
// An App has one Entry; a request to addcartitem names its route itself
// (fusionsim.Arrival.Route), as WebshopIteration's first request does.
var WebshopEntries = []string{WebshopFrontend, WebshopAddCartItem}

// CartTable is the webshop's cart store (DynamoDB in the prototype): one
// item per user (see cartKVStorage).
const CartTable = "CartTable"

// Work descriptor names of the webshop (keys of model.Profile.Work).
const (
	// WorkWebshopCheckoutBurn is checkout's two burn workers.
	WorkWebshopCheckoutBurn = "webshop-checkout-burn"
	// WorkWebshopEmailBurn is email's one burn worker.
	WorkWebshopEmailBurn = "webshop-email-burn"
	// WorkWebshopSieve is the sieve of 500,000 numbers of cartkvstorage's
	// add, shiporder and payment.
	WorkWebshopSieve = "webshop-sieve-500000"
)

// Figures of the webshop's CPU work, fitted on the warm median
// internalDuration of the tasks that do nothing else, as "simulate
// describe" prints them (webshop-notes.md), times the CPU share
// min(1, MB/1769), which is constant where the work is CPU-bound:
//
//   - checkout: 14867 ms at 128 MB (1676375682), 1220 at 1536
//     (1676389085), 1140 at 1650 (1676389591): 1076, 1059, 1063 vCPU-ms.
//     Its sync calls run on the main thread while the workers burn (the
//     callees start within the first second of its 14.9 s), so the calls
//     are part of the time; 1060 vCPU-ms for the workers. The share stays
//     below one vCPU at every size the run tried, so the traces cannot
//     tell one thread from two; the docs say two workers. The kernel is
//     burn(9) per worker (9^7 = 4,782,969 iterations, 5.8 times burn(7),
//     whose two workers demand 170 vCPU-ms: 987 vCPU-ms predicted).
//   - email: 7148 ms at 128 MB, 585 at 1536, 558 at 1650: 517, 508, 521
//     vCPU-ms; one burn(9) worker (494 vCPU-ms predicted by burn(7)).
//   - sieve(500,000): shiporder 241 ms at 128 MB, 15 at 1536 and 1650:
//     17.4, 13.0, 14.0 vCPU-ms (the quota of the CPU model lets short
//     work run faster than the share at 1536 MB); 18 vCPU-ms, so that the
//     128 MB setups, 15 of the run's 17 for shiporder, fit. It is three to
//     four times the sieve workload's plain sieve (8.41 vCPU-ns per number:
//     4.2 vCPU-ms): the webshop's JavaScript sieve is another one.
//     cartkvstorage's add (a put and the sieve) takes 304 ms at 128 MB and
//     34 at 1536, the put's time more.
//
// Memory (Max Memory Used medians, warm, against about 80 MB for the tasks
// that do nothing): checkout 93 MB, email 86, shiporder 109,
// cartkvstorage 117 at 128 MB.
const (
	webshopCheckoutBurnCPUMs    = 1060
	webshopCheckoutBurnThreads  = 2
	webshopCheckoutBurnMemoryMB = 13
	webshopEmailBurnCPUMs       = 512
	webshopEmailBurnMemoryMB    = 6
	webshopBurnK                = 9
	webshopSieveN               = 500_000
	webshopSieveCPUMs           = 18
	webshopSieveMemoryMB        = 30
)

// webshopProducts is the static catalogue: 11 products, ids "1".."11" (the
// load's itemId), prices in USD.
var webshopProducts = func() []fusionsim.Event {
	names := []string{"Vintage Typewriter", "Vintage Camera Lens", "Home Barista Kit", "Terrarium", "Film Camera",
		"Vintage Record Player", "Metal Camping Mug", "City Bike", "Air Plant", "Salt & Pepper Shakers", "Candle Holder"}
	out := make([]fusionsim.Event, len(names))
	for i, n := range names {
		out[i] = fusionsim.Event{"id": strconv.Itoa(i + 1), "name": n, "priceUsd": float64(10*(i+1)) + 0.99}
	}
	return out
}()

// webshopRates are the currency conversion rates from USD.
var webshopRates = map[string]float64{"USD": 1, "EUR": 0.93, "GBP": 0.82, "JPY": 131.5, "CAD": 1.34, "CHF": 0.92}

// Webshop is the prototype's webshop (docs/webshop.md): 17 tasks, entry
// frontend for operations "get" and "checkout", and addcartitem, which the
// load calls directly (WebshopEntries). payment, getproduct and
// searchproducts are in the code but never called.
func Webshop() Workload {
	app := &fusionsim.App{
		Name:        "webshop",
		Description: "online shop of the Fusionize prototype (entries frontend and addcartitem, 17 tasks)",
		Entry:       WebshopFrontend,
		Tasks: map[string]fusionsim.Task{
			WebshopFrontend:            webshopFrontend,
			WebshopAddCartItem:         webshopAddCartItem,
			WebshopCartKVStorage:       webshopCartKVStorage,
			WebshopCheckout:            webshopCheckout,
			WebshopCurrency:            webshopCurrency,
			WebshopEmail:               webshopEmail,
			WebshopEmptyCart:           webshopEmptyCart,
			WebshopGetAds:              webshopGetAds,
			WebshopGetCart:             webshopGetCart,
			WebshopGetProduct:          webshopGetProduct,
			WebshopListProducts:        webshopListProducts,
			WebshopListRecommendations: webshopListRecommendations,
			WebshopPayment:             webshopPayment,
			WebshopSearchProducts:      webshopSearchProducts,
			WebshopShipmentQuote:       webshopShipmentQuote,
			WebshopShipOrder:           webshopShipOrder,
			WebshopSupportedCurrencies: webshopSupportedCurrencies,
		},
		// In the order the code makes the calls (the traces' order of the
		// calls as they return).
		Edges: []fusionsim.Edge{
			{Caller: WebshopFrontend, Called: WebshopSupportedCurrencies, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopListProducts, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopCurrency, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopGetAds, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopGetCart, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopListRecommendations, Sync: true},
			{Caller: WebshopFrontend, Called: WebshopCheckout, Sync: false},
			{Caller: WebshopAddCartItem, Called: WebshopCartKVStorage, Sync: false},
			{Caller: WebshopGetCart, Called: WebshopCartKVStorage, Sync: true},
			{Caller: WebshopEmptyCart, Called: WebshopCartKVStorage, Sync: false},
			{Caller: WebshopListRecommendations, Called: WebshopListProducts, Sync: true},
			{Caller: WebshopCheckout, Called: WebshopGetCart, Sync: true},
			{Caller: WebshopCheckout, Called: WebshopListProducts, Sync: true},
			{Caller: WebshopCheckout, Called: WebshopCurrency, Sync: true},
			{Caller: WebshopCheckout, Called: WebshopShipmentQuote, Sync: true},
			{Caller: WebshopCheckout, Called: WebshopShipOrder, Sync: false},
			{Caller: WebshopCheckout, Called: WebshopEmail, Sync: false},
			{Caller: WebshopCheckout, Called: WebshopEmptyCart, Sync: false},
		},
	}
	get := fusionsim.Event{"operation": "get", "userId": webshopUser, "currency": "USD"}
	return Workload{
		App:   app,
		Tasks: webshopDocs(),
		Event: get,
		// The request kinds of the traces (webshop-notes.md): an add at
		// addcartitem; at the frontend a checkout calls checkout, a get
		// does not.
		RequestEvent: func(entry string, calls []fusionsim.Call) fusionsim.Event {
			if entry == WebshopAddCartItem {
				return fusionsim.Event{"userId": webshopUser, "itemId": "1", "quantity": 1}
			}
			for _, c := range calls {
				if c.Called == WebshopCheckout {
					return fusionsim.Event{"operation": "checkout", "userId": webshopUser, "currency": "USD"}
				}
			}
			return get
		},
	}
}

func webshopDocs() []TaskDoc {
	return []TaskDoc{
		{WebshopAddCartItem, "addcartitem", "entry: async cartkvstorage (add) with the user and event.productId (the load sends itemId)"},
		{WebshopCartKVStorage, "cartkvstorage", "add: one put (one item per user) and a sieve of 500,000; get: one query; empty: one query and a delete per item"},
		{WebshopCheckout, "checkout", "two burn(9) workers while it makes its calls: sync getcart, listproducts, currency per cart item, shipmentquote, currency (shipping); async shiporder, email, emptycart"},
		{WebshopCurrency, "currency", "converts an amount between currencies"},
		{WebshopEmail, "email", "one burn(9) worker"},
		{WebshopEmptyCart, "emptycart", "async cartkvstorage (empty)"},
		{WebshopFrontend, "frontend", "entry; get: sync supportedcurrencies, listproducts, currency per product (11, concurrently), getads, getcart, listrecommendations; checkout: async checkout"},
		{WebshopGetAds, "getads", "an ad"},
		{WebshopGetCart, "getcart", "sync cartkvstorage (get)"},
		{WebshopGetProduct, "getproduct", "a product of the catalogue (never called)"},
		{WebshopListProducts, "listproducts", "the static catalogue of 11 products"},
		{WebshopListRecommendations, "listrecommendations", "sync listproducts, then picks products"},
		{WebshopPayment, "payment", "a sieve of 500,000 (never called)"},
		{WebshopSearchProducts, "searchproducts", "searches the catalogue (never called)"},
		{WebshopShipmentQuote, "shipmentquote", "a shipping quote"},
		{WebshopShipOrder, "shiporder", "a sieve of 500,000"},
		{WebshopSupportedCurrencies, "supportedcurrencies", "the currency codes"},
	}
}

// webshopUser is the one user of the prototype's load (its setup phase
// fills one user's cart).
const webshopUser = "user-0"

// WebshopIteration returns the three requests of one iteration of the
// prototype's k6 load (docs/webshop.md), all sent by one user, each to its
// entry's sync route at memoryMB (0: the default size) with its own body
// and Kind ("addcartitem", "get", "checkout"): add a random item ("1".."11",
// quantity 1..20) to the cart, get the front page, check out. At is zero:
// k6 sent each once the previous one was answered; the caller spaces them.
func WebshopIteration(rng *rand.Rand, user string, memoryMB int) []fusionsim.Arrival {
	route := func(task string) fusionsim.Route {
		return fusionsim.Route{Task: task, MemoryMB: memoryMB, Sync: true}
	}
	return []fusionsim.Arrival{
		{Route: route(WebshopAddCartItem), Kind: "addcartitem",
			Event: fusionsim.Event{"userId": user, "itemId": strconv.Itoa(1 + rng.IntN(len(webshopProducts))), "quantity": 1 + rng.IntN(20)}},
		{Route: route(WebshopFrontend), Kind: "get", Event: fusionsim.Event{"operation": "get", "userId": user, "currency": "USD"}},
		{Route: route(WebshopFrontend), Kind: "checkout", Event: fusionsim.Event{"operation": "checkout", "userId": user, "currency": "USD"}},
	}
}

// userKey is the cart's key of the event's userId (FNV-1a of its text).
func userKey(in fusionsim.Event) int64 {
	h := fnv.New64a()
	fmt.Fprint(h, in["userId"])
	return int64(h.Sum64() & (1<<63 - 1))
}

func webshopFrontend(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	user := fusionsim.Event{"userId": in["userId"]}
	switch op := in.String("operation"); op {
	case "get":
		cur, err := ctx.Call(WebshopSupportedCurrencies, fusionsim.Event{}, true)
		if err != nil {
			return nil, err
		}
		list, err := ctx.Call(WebshopListProducts, fusionsim.Event{}, true)
		if err != nil {
			return nil, err
		}
		products := eventList(list["products"])
		to := in.String("currency")
		if to == "" {
			to = "USD"
		}
		conv := make([]fusionsim.Future, len(products))
		for i, p := range products {
			conv[i] = ctx.Start(WebshopCurrency, fusionsim.Event{"from": "USD", "to": to, "amount": p["priceUsd"]}, true)
		}
		if err := fusionsim.WaitAll(conv...); err != nil {
			return nil, err
		}
		ad, err := ctx.Call(WebshopGetAds, fusionsim.Event{}, true)
		if err != nil {
			return nil, err
		}
		cart, err := ctx.Call(WebshopGetCart, user, true)
		if err != nil {
			return nil, err
		}
		recs, err := ctx.Call(WebshopListRecommendations, user, true)
		if err != nil {
			return nil, err
		}
		return fusionsim.Event{"currencies": cur["currencies"], "products": len(products), "ad": ad["ad"],
			"cart": cart["items"], "recommendations": recs["products"]}, nil
	case "checkout":
		ev := fusionsim.Event{"userId": in["userId"], "currency": in["currency"]}
		if _, err := ctx.Call(WebshopCheckout, ev, false); err != nil {
			return nil, err
		}
		return fusionsim.Event{"checkout": "started"}, nil
	default:
		return nil, fmt.Errorf("frontend: operation %q is neither get nor checkout", op)
	}
}

func webshopAddCartItem(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	// The prototype passed productId on, which the load does not send (it
	// sends itemId): every add stores the user's one item.
	ev := fusionsim.Event{"operation": "add", "userId": in["userId"], "productId": in["productId"], "quantity": in["quantity"]}
	if _, err := ctx.Call(WebshopCartKVStorage, ev, false); err != nil {
		return nil, err
	}
	return fusionsim.Event{"added": true}, nil
}

// webshopCartKVStorage is the cart store. The table has one item per key
// and the key is the user's: a cart holds at most one item, as in the
// traces (the prototype's store key was the user and the productId the
// load never sent).
func webshopCartKVStorage(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	key := userKey(in)
	switch op := in.String("operation"); op {
	case "add":
		if err := ctx.Put(CartTable, fusionsim.Item{Key: key, Message: fmt.Sprint(in["productId"])}); err != nil {
			return nil, err
		}
		var primes int
		ctx.Spend(webshopSieve(&primes))
		return fusionsim.Event{"added": true, "primes": primes}, nil
	case "get":
		items, err := ctx.Query(CartTable, key)
		if err != nil {
			return nil, err
		}
		return fusionsim.Event{"items": len(items)}, nil
	case "empty":
		items, err := ctx.Query(CartTable, key)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if err := ctx.Delete(CartTable, it.Key); err != nil {
				return nil, err
			}
		}
		return fusionsim.Event{"deleted": len(items)}, nil
	default:
		return nil, fmt.Errorf("cartkvstorage: operation %q is none of add, get, empty", op)
	}
}

func webshopGetCart(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	out, err := ctx.Call(WebshopCartKVStorage, fusionsim.Event{"operation": "get", "userId": in["userId"]}, true)
	if err != nil {
		return nil, err
	}
	return fusionsim.Event{"items": out.Int("items", 0)}, nil
}

func webshopEmptyCart(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	if _, err := ctx.Call(WebshopCartKVStorage, fusionsim.Event{"operation": "empty", "userId": in["userId"]}, false); err != nil {
		return nil, err
	}
	return fusionsim.Event{"emptied": true}, nil
}

func webshopListProducts(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) {
	return fusionsim.Event{"products": webshopProducts}, nil
}

func webshopGetProduct(_ fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	id := in.String("id")
	for _, p := range webshopProducts {
		if p["id"] == id {
			return fusionsim.Event{"product": p}, nil
		}
	}
	return fusionsim.Event{"product": nil}, nil
}

func webshopSearchProducts(_ fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	q := in.String("query")
	var found []string
	for _, p := range webshopProducts {
		if name, _ := p["name"].(string); q != "" && strings.Contains(strings.ToLower(name), strings.ToLower(q)) {
			found = append(found, p["id"].(string))
		}
	}
	return fusionsim.Event{"products": found}, nil
}

// eventList reads a list of events from a result: the list itself in
// process, a JSON array of objects after a trip through JSON (the AWS
// backend).
func eventList(v any) []fusionsim.Event {
	switch l := v.(type) {
	case []fusionsim.Event:
		return l
	case []any:
		out := make([]fusionsim.Event, 0, len(l))
		for _, x := range l {
			switch e := x.(type) {
			case fusionsim.Event:
				out = append(out, e)
			case map[string]any:
				out = append(out, fusionsim.Event(e))
			}
		}
		return out
	}
	return nil
}

func webshopListRecommendations(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	list, err := ctx.Call(WebshopListProducts, fusionsim.Event{}, true)
	if err != nil {
		return nil, err
	}
	products := eventList(list["products"])
	var picks []any
	for _, i := range ctx.Rand().Perm(len(products))[:min(5, len(products))] {
		picks = append(picks, products[i]["id"])
	}
	return fusionsim.Event{"products": picks}, nil
}

func webshopSupportedCurrencies(fusionsim.Context, fusionsim.Event) (fusionsim.Event, error) {
	codes := []string{"CAD", "CHF", "EUR", "GBP", "JPY", "USD"}
	return fusionsim.Event{"currencies": codes}, nil
}

func webshopCurrency(_ fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	from, to := in.String("from"), in.String("to")
	rf, okf := webshopRates[from]
	rt, okt := webshopRates[to]
	if !okf || !okt {
		return nil, fmt.Errorf("currency: cannot convert %q to %q", from, to)
	}
	return fusionsim.Event{"amount": in.Float("amount", 0) / rf * rt, "currency": to}, nil
}

func webshopGetAds(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	p := webshopProducts[ctx.Rand().IntN(len(webshopProducts))]
	return fusionsim.Event{"ad": fmt.Sprint("Buy ", p["name"])}, nil
}

func webshopShipmentQuote(_ fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	return fusionsim.Event{"costUsd": 8.99 + 0.5*in.Float("items", 0)}, nil
}

// webshopCheckout starts its two burn workers, makes its calls on the
// main thread meanwhile, and waits for the workers.
func webshopCheckout(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	var sum float64
	burn := ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
		c.Spend(webshopBurn(WorkWebshopCheckoutBurn, webshopCheckoutBurnCPUMs, webshopCheckoutBurnThreads, webshopCheckoutBurnMemoryMB, &sum))
		return nil, nil
	})
	user := fusionsim.Event{"userId": in["userId"]}
	cart, err := ctx.Call(WebshopGetCart, user, true)
	if err != nil {
		return nil, err
	}
	list, err := ctx.Call(WebshopListProducts, fusionsim.Event{}, true)
	if err != nil {
		return nil, err
	}
	products := eventList(list["products"])
	if len(products) == 0 {
		return nil, fmt.Errorf("checkout: listproducts returned no products")
	}
	to := in.String("currency")
	if to == "" {
		to = "USD"
	}
	items := cart.Int("items", 0)
	total := 0.0
	for i := range items {
		p := products[i%len(products)]
		out, err := ctx.Call(WebshopCurrency, fusionsim.Event{"from": "USD", "to": to, "amount": p["priceUsd"]}, true)
		if err != nil {
			return nil, err
		}
		total += out.Float("amount", 0)
	}
	quote, err := ctx.Call(WebshopShipmentQuote, fusionsim.Event{"items": items}, true)
	if err != nil {
		return nil, err
	}
	shipping, err := ctx.Call(WebshopCurrency, fusionsim.Event{"from": "USD", "to": to, "amount": quote["costUsd"]}, true)
	if err != nil {
		return nil, err
	}
	total += shipping.Float("amount", 0)
	order := fusionsim.Event{"userId": in["userId"], "items": items, "total": total, "currency": to}
	ship := ctx.Start(WebshopShipOrder, order, false)
	mail := ctx.Start(WebshopEmail, order, false)
	empty := ctx.Start(WebshopEmptyCart, user, false)
	if err := fusionsim.WaitAll(ship, mail, empty, burn); err != nil {
		return nil, err
	}
	return fusionsim.Event{"total": total, "currency": to, "burn": sum}, nil
}

func webshopShipOrder(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	var primes int
	ctx.Spend(webshopSieve(&primes))
	return fusionsim.Event{"trackingId": fmt.Sprintf("TRK-%d", ctx.Rand().IntN(1_000_000)), "primes": primes}, nil
}

func webshopPayment(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	var primes int
	ctx.Spend(webshopSieve(&primes))
	return fusionsim.Event{"charged": in.Float("total", 0), "primes": primes}, nil
}

func webshopEmail(ctx fusionsim.Context, _ fusionsim.Event) (fusionsim.Event, error) {
	var sum float64
	ctx.Spend(webshopBurn(WorkWebshopEmailBurn, webshopEmailBurnCPUMs, 1, webshopEmailBurnMemoryMB, &sum))
	return fusionsim.Event{"sent": true, "burn": sum}, nil
}

// webshopBurn is threads workers of burn(9) with the webshop's fitted
// demand.
func webshopBurn(name string, cpuMs float64, threads int, memoryMB float64, result *float64) fusionsim.Work {
	w := BurnWorkers(name, webshopBurnK, threads, result)
	w.CPUMs, w.MemoryMB = cpuMs, memoryMB
	return w
}

// webshopSieve is the sieve of 500,000 numbers with the webshop's fitted
// demand (see the figures above).
func webshopSieve(count *int) fusionsim.Work {
	w, err := SieveWork(SievePlain, webshopSieveN, count)
	if err != nil {
		panic(err) // n is a constant >= 0
	}
	w.Name, w.CPUMs, w.MemoryMB = WorkWebshopSieve, webshopSieveCPUMs, webshopSieveMemoryMB
	return w
}
