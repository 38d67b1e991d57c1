namespace Paasta.Git;

/// <summary>One advertised ref: full name (<c>refs/tags/…</c>) and the 40-hex object id it points at.</summary>
public readonly record struct GitRef(string Name, string Sha)
{
    /// <summary>The suffix git ls-remote gives the peeled commit of an annotated tag.</summary>
    public const string PeeledSuffix = "^{}";

    public bool IsPeeled => Name.EndsWith(PeeledSuffix, StringComparison.Ordinal);

    public override string ToString() => $"{Sha}\t{Name}";
}

/// <summary>
/// The refs of a repository as <c>git ls-remote</c> shows them (docs/BEHAVIOUR.md §2.4): ref name → sha. Built once
/// per operation and read in single passes; the name index is built only when someone asks for it.
/// </summary>
public sealed class GitRefListing
{
    private readonly GitRef[] _refs;
    private readonly Func<IReadOnlyList<GitRef>>? _peeler;
    private Dictionary<string, string>? _byName;
    private IReadOnlyList<GitRef>? _peeled;

    /// <param name="location">Where the refs were listed from.</param>
    /// <param name="refs">The refs, in any order.</param>
    /// <param name="peeler">
    /// For listings read straight from a local ref store: computes the <c>^{}</c> entries of annotated tags
    /// whose peeled commit the store did not record. Only commit resolution needs them, so it runs lazily.
    /// </param>
    public GitRefListing(GitRepositoryLocation location, IEnumerable<GitRef> refs, Func<IReadOnlyList<GitRef>>? peeler = null)
    {
        Location = location;
        _refs = refs as GitRef[] ?? refs.ToArray();
        _peeler = peeler;
    }

    public GitRepositoryLocation Location { get; }

    /// <summary>Every ref listed, including the <c>^{}</c> entries the listing already had.</summary>
    public IReadOnlyList<GitRef> Refs => _refs;

    public int Count => _refs.Length;

    /// <summary>The sha a ref points at, or null when there is no such ref.</summary>
    public string? ShaOf(string refName) => ByName().TryGetValue(refName, out var sha) ? sha : null;

    public bool Contains(string refName) => ByName().ContainsKey(refName);

    /// <summary>The refs plus the peeled (<c>^{}</c>) commit of every annotated tag, as ls-remote prints them.</summary>
    public IReadOnlyList<GitRef> RefsWithPeeled()
    {
        if (_peeler is null) return _refs;
        return _peeled ??= _refs.Concat(_peeler()).ToArray();
    }

    private Dictionary<string, string> ByName()
    {
        if (_byName is not null) return _byName;
        var map = new Dictionary<string, string>(_refs.Length, StringComparer.Ordinal);
        foreach (var r in _refs) map[r.Name] = r.Sha;
        return _byName = map;
    }
}
