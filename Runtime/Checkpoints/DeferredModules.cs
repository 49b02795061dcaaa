using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using RnaLm.Modules;
using RnaLm.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnaLm.Checkpoints;

/// <summary>
/// Modules built without storage and given storage afterwards. A model about to receive a checkpoint's weights is built
/// on the meta device (shapes only: no allocation, no random initialisation), then every parameter and buffer is
/// replaced by uninitialised storage on the target device, and the loader reads the file straight into it. Tensors that
/// several modules share (a tied decoder and the word embeddings) stay shared.
/// </summary>
public static class DeferredModules
{
    /// <summary>Runs <paramref name="build"/> with the meta device as the default, restoring the previous default.</summary>
    public static T BuildOnMeta<T>(Func<T> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        var previous = get_default_device();
        set_default_device(META);
        try
        {
            return build();
        }
        finally
        {
            set_default_device(previous);
        }
    }

    /// <summary>
    /// Gives every meta parameter and buffer of <paramref name="root"/> and its submodules uninitialised storage on
    /// <paramref name="device"/>, keeping dtypes, shapes, <c>requires_grad</c> and sharing; then modules that compute
    /// buffers from their settings (<see cref="IComputedBuffers"/>) compute them. The values of every other tensor are
    /// undefined until something writes them (a checkpoint load that covers the whole state dict).
    /// </summary>
    /// <exception cref="InvalidOperationException">A module keeps a meta tensor outside its registered parameters and
    /// buffers, which this cannot reach (the module must then be built on a real device).</exception>
    /// <remarks>On the CPU the new storage is one block per dtype, advised for huge pages, that the tensors are views
    /// of (see <see cref="CarveFromBlocks"/>); each tensor is still contiguous, has its own shape and is a leaf.</remarks>
    public static void Materialize(nn.Module root, Device device)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(device);
        var modules = new List<nn.Module> { root };
        modules.AddRange(root.modules());

        // Every registration first: replacing a tensor through a property setter disposes the old object, and a
        // disposed tensor no longer shows up in the enumerations of the other modules that share it.
        var parameters = modules.Select(m => (Module: m, Entries: m.named_parameters(recurse: false).ToList())).ToList();
        var buffers = modules.Select(m => (Module: m, Entries: m.named_buffers(recurse: false, include_nonpersistent: true).ToList(),
            Persistent: m.named_buffers(recurse: false, include_nonpersistent: false).Select(b => b.name).ToHashSet(StringComparer.Ordinal))).ToList();

        // Keyed by the native tensor, not the managed wrapper: TorchSharp's native layers (Embedding) hand out a new
        // wrapper of the same tensor on every access, and a tied decoder holds one of those wrappers.
        EnsureIdentityWorks();
        var planned = new Dictionary<IntPtr, Tensor>();
        foreach (var tensor in parameters.SelectMany(p => p.Entries.Select(e => e.parameter))
                     .Concat(buffers.SelectMany(b => b.Entries.Select(e => e.buffer))))
        {
            if (tensor.is_meta) planned.TryAdd(Identity(tensor), tensor);
        }
        var storages = device.type == DeviceType.CPU ? CarveFromBlocks(planned, device) : new Dictionary<IntPtr, Tensor>();
        var replacements = new Dictionary<IntPtr, Tensor>();
        var replaced = new List<Tensor>();
        try
        {
            Tensor Replacement(Tensor old)
            {
                var identity = Identity(old);
                if (!replacements.TryGetValue(identity, out var fresh))
                {
                    var storage = storages.TryGetValue(identity, out var carved) ? carved : empty(old.shape, old.dtype, device);
                    fresh = old is Parameter p ? new Parameter(storage, p.requires_grad) : storage;
                    fresh.DetachFromDisposeScope();
                    replacements[identity] = fresh;
                }
                replaced.Add(old);
                return fresh;
            }

            foreach (var (module, entries) in parameters)
            {
                foreach (var (name, parameter) in entries)
                {
                    if (!parameter.is_meta) continue;
                    Assign(module, name, (Parameter)Replacement(parameter), isParameter: true, persistent: true);
                }
            }
            foreach (var (module, entries, persistent) in buffers)
            {
                foreach (var (name, buffer) in entries)
                {
                    if (!buffer.is_meta) continue;
                    Assign(module, name, Replacement(buffer), isParameter: false, persistent.Contains(name));
                }
            }

            foreach (var module in modules)
            {
                foreach (var field in Fields(module.GetType()))
                {
                    if (!typeof(Tensor).IsAssignableFrom(field.FieldType)) continue;
                    if (field.GetValue(module) is not Tensor value || value.IsInvalid || !value.is_meta) continue;
                    if (replacements.TryGetValue(Identity(value), out var fresh))
                    {
                        field.SetValue(module, fresh);
                        continue;
                    }
                    if (module is IComputedBuffers)
                    {
                        // A computed buffer that TorchSharp does not enumerate (non-persistent): fresh storage, filled below.
                        Assign(module, ComponentName(field), Replacement(value), isParameter: false, persistent: false);
                        continue;
                    }
                    throw new InvalidOperationException(
                        $"{module.GetType().Name}.{field.Name} holds a meta tensor that is neither a parameter nor a buffer; build this module on a real device.");
                }
            }
            foreach (var module in modules)
            {
                if (module is IComputedBuffers computed) computed.ComputeBuffers();
            }
        }
        catch
        {
            // Storage carved for tensors that were never put in place would keep its block alive.
            foreach (var (identity, storage) in storages)
            {
                if (!replacements.ContainsKey(identity) && !storage.IsInvalid) storage.Dispose();
            }
            throw;
        }
        foreach (var old in replaced)
        {
            if (!old.IsInvalid) old.Dispose();
        }
    }

    /// <summary>
    /// Blocks smaller than this are not advised: they hold a few 2 MiB pages at most, and a block below glibc's mmap
    /// threshold comes from the heap, whose pages the advice would reach too.
    /// </summary>
    private const long HugePageAdviceMinimumBytes = 8L << 20;

    /// <summary>
    /// Storage for the <paramref name="planned"/> tensors, carved out of one uninitialised block per dtype (each tensor
    /// a contiguous view at a 64-byte aligned offset). A model's weights then sit in one allocation that the kernel can
    /// back with 2 MiB pages (asked for with <see cref="NativeMemory.AdviseHugePages"/> before anything touches it): a
    /// full-size model's few hundred MB then fault in as a few hundred huge pages instead of ~100,000 small ones, which
    /// on a virtual machine is most of a checkpoint load's time. The views keep the block alive; it is freed with the last.
    /// </summary>
    private static Dictionary<IntPtr, Tensor> CarveFromBlocks(Dictionary<IntPtr, Tensor> planned, Device device)
    {
        using var scope = NewDisposeScope();
        var carved = new Dictionary<IntPtr, Tensor>();
        foreach (var group in planned.Where(kv => kv.Value.numel() > 0).GroupBy(kv => kv.Value.dtype))
        {
            long itemSize = group.First().Value.element_size();
            long alignment = Math.Max(1, 64 / itemSize);
            var offsets = new List<(IntPtr Identity, long[] Shape, long Offset, long Count)>();
            long total = 0;
            foreach (var (identity, tensor) in group)
            {
                long count = tensor.numel();
                offsets.Add((identity, tensor.shape, total, count));
                total += (count + alignment - 1) / alignment * alignment;
            }
            var block = empty(new[] { total }, group.Key, device);
            if (total * itemSize >= HugePageAdviceMinimumBytes)
            {
                NativeMemory.AdviseHugePages(NativeMemory.DataAddress(block), total * itemSize);
            }
            foreach (var (identity, shape, offset, count) in offsets)
            {
                carved[identity] = block.narrow(0, offset, count).view(shape).DetachFromDisposeScope();
            }
        }
        return carved;
    }

    /// <summary>
    /// The native tensor a managed handle refers to: libtorch's <c>at::Tensor</c> is a single pointer to its
    /// <c>TensorImpl</c>, and TorchSharp's handle points to an <c>at::Tensor</c>. Two handles of one tensor give the same
    /// value; views and copies do not.
    /// </summary>
    private static IntPtr Identity(Tensor tensor) => System.Runtime.InteropServices.Marshal.ReadIntPtr(tensor.Handle);

    private static bool? _identityWorks;

    /// <summary>Checks once that <see cref="Identity"/> tells one tensor's wrappers apart from other tensors.</summary>
    private static void EnsureIdentityWorks()
    {
        if (_identityWorks is null)
        {
            using var scope = NewDisposeScope();
            using var embedding = nn.Embedding(2, 2);
            var first = embedding.weight!;
            var second = embedding.weight!;
            using var other = zeros(2, 2);
            _identityWorks = !ReferenceEquals(first, second) && Identity(first) == Identity(second) && Identity(first) != Identity(other);
        }
        if (_identityWorks != true)
        {
            throw new InvalidOperationException("This libtorch does not expose tensor identity as expected; the model must be built on a real device.");
        }
    }

    /// <summary>Puts <paramref name="value"/> where <paramref name="module"/> keeps its tensor <paramref name="name"/>.</summary>
    private static void Assign(nn.Module module, string name, Tensor value, bool isParameter, bool persistent)
    {
        var type = module.GetType();
        var property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
        if (property is { CanWrite: true } && property.PropertyType.IsInstanceOfType(value))
        {
            // TorchSharp's own layers (Linear.weight, Embedding.weight, LayerNorm.bias, ...) re-register through their setters.
            property.SetValue(module, value);
            return;
        }
        if (isParameter)
        {
            RegisterParameter.Invoke(module, new object[] { name, (Parameter)value });
        }
        else
        {
            RegisterBuffer.Invoke(module, new object[] { name, value, persistent });
        }
        var field = Fields(type).FirstOrDefault(f => ComponentName(f) == name);
        field?.SetValue(module, value);
    }

    /// <summary>TorchSharp's re-registration of a parameter under an existing name (protected, so reached by reflection).</summary>
    private static readonly MethodInfo RegisterParameter = typeof(nn.Module).GetMethod("ConditionallyRegisterParameter",
            BindingFlags.NonPublic | BindingFlags.Instance, null, new[] { typeof(string), typeof(Parameter) }, null)
        ?? throw new MissingMethodException("TorchSharp's nn.Module has no ConditionallyRegisterParameter(string, Parameter); this TorchSharp version is not supported.");

    /// <summary>TorchSharp's re-registration of a buffer under an existing name.</summary>
    private static readonly MethodInfo RegisterBuffer = typeof(nn.Module).GetMethod("ConditionallyRegisterBuffer",
            BindingFlags.NonPublic | BindingFlags.Instance, null, new[] { typeof(string), typeof(Tensor), typeof(bool) }, null)
        ?? throw new MissingMethodException("TorchSharp's nn.Module has no ConditionallyRegisterBuffer(string, Tensor, bool); this TorchSharp version is not supported.");

    /// <summary>The name a field registers under (TorchSharp's <c>ComponentName</c> attribute, else the field's name).</summary>
    private static string ComponentName(FieldInfo field) =>
        field.GetCustomAttribute<TorchSharp.Utils.ComponentNameAttribute>()?.Name ?? field.Name;

    /// <summary>The instance fields of a module type and its bases, up to <see cref="nn.Module"/>.</summary>
    private static IEnumerable<FieldInfo> Fields(Type type)
    {
        for (var t = type; t is not null && t != typeof(nn.Module) && t != typeof(object); t = t.BaseType)
        {
            foreach (var field in t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                yield return field;
            }
        }
    }
}
