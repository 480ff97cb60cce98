using System.Net.Http.Json;
using Dsdc.Tests.Auth;
using Dsdc.Inference;
using Dsdc.Tests.Infrastructure;
using Dsdc.Shared;
using Dsdc.Training;

namespace Dsdc.Tests.Api;

/// <summary>What a change of champion does to the work and the decisions begun before it.</summary>
[Collection(ApiCollection.Name)]
public sealed class ChampionSwitchTests(ApiApp app)
{
    /// <summary>
    /// A rollback names the champion its caller saw (the models page sends it): once another run has been promoted
    /// meanwhile (the hourly job), it is refused instead of removing a model nobody looked at.
    /// </summary>
    [Fact]
    public async Task ARollbackOfTheChampionAPersonSawIsRefusedOnceAnotherWasPromoted()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var seen = app.ChampionRunId;
        var other = (await registry.RunsAsync(100, ct)).First(r => r.Status == "succeeded" && r.Id != seen && r.Name.StartsWith("fused-", StringComparison.Ordinal));
        try
        {
            Assert.True((await registry.PromoteAsync(other.Id, "training job", "challenger wins", ct)).Promoted);

            var refused = await registry.RollbackAsync("admin", null, ct, from: seen);
            Assert.False(refused.Promoted);
            Assert.Equal(other.Id, await registry.ChampionRunIdAsync(ct));
            Assert.StartsWith($"the champion is now run {other.Id}, not run {seen}", refused.Message);

            using var client = await app.CreateClientWithRoleAsync(Dsdc.Auth.Roles.ModelAdmin);
            var response = await client.PostAsJsonAsync("/api/v1/models/rollback", new { from = seen }, ct);
            Assert.Equal(System.Net.HttpStatusCode.Conflict, response.StatusCode);

            var done = await registry.RollbackAsync("admin", null, ct, from: other.Id);
            Assert.True(done.Promoted);
            Assert.Equal(seen, await registry.ChampionRunIdAsync(ct));
        }
        finally
        {
            if (await registry.ChampionRunIdAsync(ct) != seen) await registry.PromoteAsync(seen, "tests", "restore the collection's champion", ct);
            await app.Get<IDocumentClassifier>().ReloadAsync(ct);
        }
    }

    /// <summary>
    /// A reason typed by a person is kept as the history can hold it: a NUL (which PostgreSQL's text refuses) is dropped
    /// instead of failing the promotion with a server error, and a very long reason is cut to 1,000 characters.
    /// </summary>
    [Fact]
    public async Task APromotionWhoseReasonHoldsANulOrRunsLongIsRecordedWithTheReasonCleaned()
    {
        var ct = TestContext.Current.CancellationToken;
        var registry = app.Get<ModelRegistry>();
        var champion = app.ChampionRunId;
        var other = (await registry.RunsAsync(100, ct)).First(r => r.Status == "succeeded" && r.Id != champion && r.Name.StartsWith("fused-", StringComparison.Ordinal));
        try
        {
            using var client = await app.CreateClientWithRoleAsync(Dsdc.Auth.Roles.ModelAdmin);
            var promoted = await client.PostAsJsonAsync($"/api/v1/models/{other.Id}/promote", new { reason = "better on\u0000 invoices" }, ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, promoted.StatusCode);
            var back = await client.PostAsJsonAsync("/api/v1/models/rollback", new { reason = "  " + new string('x', 5000), from = other.Id }, ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, back.StatusCode);

            var reasons = (await registry.PromotionsAsync(ct)).TakeLast(2).Select(p => p.Reason).Reverse().ToList();
            Assert.Equal(new string('x', ModelRegistry.MaxReasonLength - 1) + "…", reasons[0]);
            Assert.Equal("better on invoices", reasons[1]);
            Assert.Equal(champion, await registry.ChampionRunIdAsync(ct));
        }
        finally
        {
            if (await registry.ChampionRunIdAsync(ct) != champion) await registry.PromoteAsync(champion, "tests", "restore the collection's champion", ct);
            await app.Get<IDocumentClassifier>().ReloadAsync(ct);
        }
    }

    [Fact]
    public void APersonsReasonLosesWhatTheDatabaseCannotHold()
    {
        Assert.Null(ModelRegistry.PersonsReason(null));
        Assert.Null(ModelRegistry.PersonsReason(" \0 "));
        Assert.Equal("ab", ModelRegistry.PersonsReason(" a\0b "));
        Assert.Equal("\ud83d\ude00 ok", ModelRegistry.PersonsReason("\ud83d\ude00 ok \ud800"));
        // Cut before a pair, never through it.
        var pairs = string.Concat(Enumerable.Repeat("\ud83d\ude00", ModelRegistry.MaxReasonLength));
        var cut = ModelRegistry.PersonsReason(pairs)!;
        Assert.True(cut.Length <= ModelRegistry.MaxReasonLength);
        Assert.Equal(cut, TextInput.ForDatabase(cut));
        Assert.EndsWith("\ud83d\ude00…", cut);
    }

    [Fact]
    public async Task AModelHeldForAPredictionAnswersWithItselfWhileAnotherIsPromoted()
    {
        var ct = TestContext.Current.CancellationToken;
        var classifier = app.Get<IDocumentClassifier>();
        var registry = app.Get<ModelRegistry>();
        var champion = app.ChampionRunId;
        var other = (await registry.RunsAsync(100, ct)).First(r => r.Status == "succeeded" && r.Id != champion && r.Name.StartsWith("fused-", StringComparison.Ordinal));
        var data = await app.Get<TrainingDataLoader>().LoadAsync(ct, withPages: true);
        var inputs = data.PagesOf(data.Test)[0].Inputs;
        try
        {
            using var held = classifier.Acquire();
            var before = held.Classify(inputs);
            Assert.True((await registry.PromoteAsync(other.Id, "tests", "held model", ct)).Promoted);
            Assert.Equal(other.Id, await classifier.ReloadAsync(ct));

            // The held model still answers, as itself, with the same probabilities; a new call gets the new champion.
            var after = held.Classify(inputs);
            Assert.Equal($"run-{champion}", after.ModelId);
            Assert.Equal(before.Probabilities, after.Probabilities);
            Assert.Equal($"run-{other.Id}", (await classifier.ClassifyInputsAsync(inputs, ct)).ModelId);
        }
        finally
        {
            await registry.PromoteAsync(champion, "tests", "restore the collection's champion", ct);
            await classifier.ReloadAsync(ct);
        }
    }
}
