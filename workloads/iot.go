package workloads

import (
	"fmt"
	"strconv"

	"github.com/fusionsim/fusionsim"
)

// Tables of the prototype's DynamoDB store (key SensorID, attribute Message).
const (
	SensorDataTable = "SensorDataTable"
	UseCaseTable    = "UseCaseTable"
)

// sensorIDs is the number of sensors the IoT entry picks from (ids 0..100).
const sensorIDs = 101

// signageChain is the number of further signs CheckAir asks ActionSignage to
// switch (ids location..location+5: 6 puts).
const signageChain = 5

// IoT is the traffic-monitoring pipeline (reference section 7): entry I, 10
// tasks. A request reaches every task; AS runs twice, once from CT and once
// from CA, so the all-remote setup makes 11 Lambda invocations per request.
//
// The request body may carry "sieve": n, passed on to CW and CSA, which then
// sieve up to n (the published runs passed none, so both did no work).
func IoT() Workload {
	app := &fusionsim.App{
		Name:        "iot",
		Description: "traffic-monitoring pipeline of the Fusionize prototype (entry I, 10 tasks)",
		Entry:       "I",
		Tasks: map[string]fusionsim.Task{
			"I":   analyzeSensor,
			"CW":  checkSensor,
			"SE":  storeEvent,
			"CT":  checkTemperature,
			"CS":  checkSound,
			"CSL": checkSoundLoud,
			"CSA": checkSoundAccident,
			"CA":  checkAir,
			"DJ":  detectJam,
			"AS":  actionSignage,
		},
		// In the order the code makes the calls.
		Edges: []fusionsim.Edge{
			{Caller: "I", Called: "CW", Sync: true},
			{Caller: "I", Called: "SE", Sync: true},
			{Caller: "I", Called: "CT", Sync: false},
			{Caller: "I", Called: "CS", Sync: false},
			{Caller: "I", Called: "CA", Sync: false},
			{Caller: "CS", Called: "CSL", Sync: true},
			{Caller: "CS", Called: "CSA", Sync: true},
			{Caller: "CA", Called: "DJ", Sync: true},
			{Caller: "CA", Called: "AS", Sync: false},
			{Caller: "CT", Called: "AS", Sync: false},
		},
	}
	return Workload{
		App: app,
		Tasks: []TaskDoc{
			{"I", "AnalyzeSensor", "four readings for a random sensor; sync CW, sync SE, then async CT, CS, CA in parallel"},
			{"CW", "CheckSensor", "sieve(event.sieve); no work without it"},
			{"SE", "StoreEvent", "one put into SensorDataTable"},
			{"CT", "CheckTemperature", "two burn(7) workers; async AS without a chain"},
			{"CS", "CheckSound", "sync CSL and sync CSA in parallel"},
			{"CSL", "CheckSoundLoud", "queries of sensor id +1 and -1, one put"},
			{"CSA", "CheckSoundAccident", "sieve(event.sieve), one put"},
			{"CA", "CheckAir", "sync DJ, then async AS with chain 5"},
			{"DJ", "DetectJam", "two burn(7) workers, one put"},
			{"AS", "ActionSignage", "two burn(7) workers; one put per id from location to location+chain"},
		},
	}
}

// reading is one sensor value as the prototype drew it: normal(0,1)*50-10.
func reading(ctx fusionsim.Context) float64 { return ctx.Rand().NormFloat64()*50 - 10 }

// sensorEvent is the event passed to the checking tasks. kind and value
// come boxed (a constant kind, a reading boxed once for the events that
// carry it).
func sensorEvent(id int, kind, value any, in fusionsim.Event) fusionsim.Event {
	ev := fusionsim.Event{"sensorId": id, "type": kind, "value": value}
	if n, ok := in["sieve"]; ok {
		ev["sieve"] = n
	}
	return ev
}

// analyzeSensor (I) reads four sensors, checks and stores the temperature,
// then starts the three checks in parallel and waits for all of them.
func analyzeSensor(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	id := ctx.Rand().IntN(sensorIDs)
	temperature := reading(ctx)
	sound := reading(ctx)
	air := reading(ctx)
	emergency := reading(ctx)

	// CW, SE and CT get the same temperature event: one map, which none
	// of them changes (each got its own copy of the same JSON in the
	// prototype).
	temp := sensorEvent(id, "temperature", temperature, in)
	if _, err := ctx.Call("CW", temp, true); err != nil {
		return nil, err
	}
	if _, err := ctx.Call("SE", temp, true); err != nil {
		return nil, err
	}
	ct := ctx.Start("CT", temp, false)
	cs := ctx.Start("CS", sensorEvent(id, "sound", sound, in), false)
	ca := ctx.Start("CA", sensorEvent(id, "air", air, in), false)
	if err := fusionsim.WaitAll(ct, cs, ca); err != nil {
		return nil, err
	}
	return fusionsim.Event{"sensorId": id, "temperature": temperature, "sound": sound, "air": air, "emergencyVehicle": emergency}, nil
}

// sieveIfAsked sieves up to event.sieve when the event carries it.
func sieveIfAsked(ctx fusionsim.Context, in fusionsim.Event) (int, error) {
	n := in.Int("sieve", 0)
	if n <= 0 {
		return 0, nil
	}
	var count int
	w, err := SieveWork(SievePlain, n, &count)
	if err != nil {
		return 0, err
	}
	ctx.Spend(w)
	return count, nil
}

// checkSensor (CW) sieves up to event.sieve.
func checkSensor(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	primes, err := sieveIfAsked(ctx, in)
	if err != nil {
		return nil, err
	}
	return fusionsim.Event{"ok": true, "primes": primes}, nil
}

// message is the item stored for a reading: fmt.Sprintf("%v %.3f", type,
// value), without fmt when the type is a string (as the IoT tasks send it).
func message(in fusionsim.Event) string { return prefixedMessage("", in) }

// prefixedMessage is prefix + message(in), made at once.
func prefixedMessage(prefix string, in fusionsim.Event) string {
	typ, ok := in["type"].(string)
	if !ok {
		return prefix + fmt.Sprintf("%v %.3f", in["type"], in.Float("value", 0))
	}
	var buf [64]byte
	b := append(append(append(buf[:0], prefix...), typ...), ' ')
	return string(strconv.AppendFloat(b, in.Float("value", 0), 'f', 3, 64))
}

// storeEvent (SE) stores the reading.
func storeEvent(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	id := in.Int("sensorId", 0)
	if err := ctx.Put(SensorDataTable, fusionsim.Item{Key: int64(id), Message: message(in)}); err != nil {
		return nil, err
	}
	return fusionsim.Event{"stored": id}, nil
}

// checkTemperature (CT) burns CPU, then tells the signage (no chain).
func checkTemperature(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x7, 7, burnWorkersThreads, &sum))
	if _, err := ctx.Call("AS", fusionsim.Event{"location": in.Int("sensorId", 0)}, false); err != nil {
		return nil, err
	}
	return fusionsim.Event{"burn": sum}, nil
}

// checkSound (CS) runs both sound checks in parallel.
func checkSound(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	loud := ctx.Start("CSL", in, true)
	accident := ctx.Start("CSA", in, true)
	if err := fusionsim.WaitAll(loud, accident); err != nil {
		return nil, err
	}
	return fusionsim.Event{"checked": in.Int("sensorId", 0)}, nil
}

// checkSoundLoud (CSL) looks at the neighbouring sensors and stores the
// reading.
func checkSoundLoud(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	id := int64(in.Int("sensorId", 0))
	found := 0
	for _, k := range []int64{id + 1, id - 1} {
		items, err := ctx.Query(SensorDataTable, k)
		if err != nil {
			return nil, err
		}
		found += len(items)
	}
	if err := ctx.Put(SensorDataTable, fusionsim.Item{Key: id, Message: message(in)}); err != nil {
		return nil, err
	}
	return fusionsim.Event{"neighbours": found}, nil
}

// checkSoundAccident (CSA) sieves up to event.sieve and stores the reading.
func checkSoundAccident(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	primes, err := sieveIfAsked(ctx, in)
	if err != nil {
		return nil, err
	}
	id := int64(in.Int("sensorId", 0))
	if err := ctx.Put(UseCaseTable, fusionsim.Item{Key: id, Message: message(in)}); err != nil {
		return nil, err
	}
	return fusionsim.Event{"primes": primes}, nil
}

// checkAir (CA) waits for the jam detection, then tells the signage along a
// chain of 5 further signs.
func checkAir(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	jam, err := ctx.Call("DJ", in, true)
	if err != nil {
		return nil, err
	}
	if _, err := ctx.Call("AS", fusionsim.Event{"location": in.Int("sensorId", 0), "chain": signageChain}, false); err != nil {
		return nil, err
	}
	return fusionsim.Event{"jam": jam["jam"]}, nil
}

// detectJam (DJ) burns CPU and stores the reading meanwhile: in the
// prototype's traces DJ takes the time of its burn alone at 768-2048 MB, so
// the put overlapped the worker threads (Promise.all).
func detectJam(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	id := int64(in.Int("sensorId", 0))
	put := ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
		return nil, c.Put(UseCaseTable, fusionsim.Item{Key: id, Message: prefixedMessage("jam ", in)})
	})
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x7, 7, burnWorkersThreads, &sum))
	if _, err := put.Wait(); err != nil {
		return nil, err
	}
	return fusionsim.Event{"jam": sum > 0, "burn": sum}, nil
}

// actionSignage (AS) switches the signs from location to location+chain,
// one put each, while it burns CPU. Without a chain (the call from CT) the
// prototype's loop `for (i = location; i <= location + chain; i++)` ran no
// iteration. The puts run concurrently with each other and with the burn:
// in the traces the two AS invocations of a request (six puts and none)
// differ by about 24 ms at 768 MB, not the ~108 ms of six puts in a row.
func actionSignage(ctx fusionsim.Context, in fusionsim.Event) (fusionsim.Event, error) {
	location := in.Int("location", 0)
	var puts []fusionsim.Future
	if _, ok := in["chain"]; ok {
		chain := in.Int("chain", 0)
		msg := "signage " + strconv.Itoa(location) // every sign's
		puts = make([]fusionsim.Future, 0, max(chain+1, 0))
		for id := location; id <= location+chain; id++ {
			puts = append(puts, ctx.Go(func(c fusionsim.Context) (fusionsim.Event, error) {
				return nil, c.Put(UseCaseTable, fusionsim.Item{Key: int64(id), Message: msg})
			}))
		}
	}
	var sum float64
	ctx.Spend(BurnWorkers(WorkBurn2x7, 7, burnWorkersThreads, &sum))
	if err := fusionsim.WaitAll(puts...); err != nil {
		return nil, err
	}
	return fusionsim.Event{"signs": len(puts), "burn": sum}, nil
}
