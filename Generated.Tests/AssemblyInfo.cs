using Xunit;

// TorchSharp's native runtime is process-global (threads, RNG, dispose scopes): run tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
