package io.lpcbridge.bench;

import java.util.List;

/**
 * What one client process measures, written by {@code bridge bench} as JSON for {@link
 * BenchClient}: the endpoints of the server process it talks to and the scenarios, in order.
 *
 * @param warmup how the first scenario of each call kind on an endpoint warms up, longer than the
 *     others: the first calls over an endpoint run its code paths cold, on both sides
 */
record ClientPlan(int run, String placement, String control, Warmup warmup, List<Endpoint> endpoints, List<Scenario> scenarios) {}
