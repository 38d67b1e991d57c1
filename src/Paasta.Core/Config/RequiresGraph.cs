namespace Paasta.Config;

/// <summary>
/// Walks of a <c>requires</c> graph (Tron actions), written as loops over explicit stacks and queues: a chain as
/// long as a file can hold is walked in linear time without growing the call stack, which a recursive walk would
/// overflow and take the whole process with it (docs/RELIABILITY.md, "Limits").
/// </summary>
public static class RequiresGraph
{
    /// <summary>
    /// A cycle, as the names on it with the first repeated at the end (<c>a, b, a</c>), or null when there is
    /// none. <paramref name="requires"/> maps each node, in written order, to what it requires; names that are
    /// not nodes are ignored (reported elsewhere as unknown).
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IReadOnlyDictionary<string, IReadOnlyList<string>> requires, IEnumerable<string> order)
    {
        const byte Unvisited = 0, OnPath = 1, Done = 2;
        var state = new Dictionary<string, byte>(StringComparer.Ordinal);
        var path = new List<string>();
        var pathIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var frames = new Stack<(string Node, int Next)>();
        foreach (var start in order)
        {
            if (state.GetValueOrDefault(start) != Unvisited) continue;
            frames.Push((start, 0));
            state[start] = OnPath;
            pathIndex[start] = path.Count;
            path.Add(start);
            while (frames.Count > 0)
            {
                var (node, next) = frames.Pop();
                var edges = requires.TryGetValue(node, out var e) ? e : Array.Empty<string>();
                if (next < edges.Count)
                {
                    frames.Push((node, next + 1));
                    var target = edges[next];
                    if (!requires.ContainsKey(target)) continue;
                    switch (state.GetValueOrDefault(target))
                    {
                        case OnPath:
                            var cycle = path.Skip(pathIndex[target]).ToList();
                            cycle.Add(target);
                            return cycle;
                        case Unvisited:
                            state[target] = OnPath;
                            pathIndex[target] = path.Count;
                            path.Add(target);
                            frames.Push((target, 0));
                            break;
                    }
                    continue;
                }
                // Every edge of the node is walked: it leaves the path.
                state[node] = Done;
                pathIndex.Remove(node);
                path.RemoveAt(path.Count - 1);
            }
        }
        return null;
    }

    /// <summary>
    /// The indexes of <paramref name="nodes"/> in an order where each node comes after everything it requires,
    /// taking the earliest written node whenever requires leaves a choice; null when the nodes require each other
    /// in a cycle (then <paramref name="unordered"/> holds the indexes that could not be placed).
    /// </summary>
    public static IReadOnlyList<int>? Order(IReadOnlyList<string> nodes, Func<int, IEnumerable<string>> requires, out IReadOnlyList<int> unordered)
    {
        var index = new Dictionary<string, int>(nodes.Count, StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++) index.TryAdd(nodes[i], i);
        var waitingOn = new int[nodes.Count];
        var dependents = new List<int>?[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var name in requires(i).Distinct(StringComparer.Ordinal))
            {
                if (!index.TryGetValue(name, out var required)) continue;
                waitingOn[i]++;
                (dependents[required] ??= new List<int>()).Add(i);
            }
        }
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++) if (waitingOn[i] == 0) ready.Enqueue(i, i);
        var order = new List<int>(nodes.Count);
        while (ready.TryDequeue(out var next, out _))
        {
            order.Add(next);
            foreach (var dependent in dependents[next] ?? (IEnumerable<int>)Array.Empty<int>())
                if (--waitingOn[dependent] == 0) ready.Enqueue(dependent, dependent);
        }
        if (order.Count == nodes.Count)
        {
            unordered = Array.Empty<int>();
            return order;
        }
        unordered = Enumerable.Range(0, nodes.Count).Where(i => waitingOn[i] > 0).ToList();
        return null;
    }
}
