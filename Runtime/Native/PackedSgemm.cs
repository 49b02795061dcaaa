using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading.Tasks;

namespace RnaLm.Native;

/// <summary>
/// Single-precision <c>C = A·Wᵀ + bias</c> for the shapes of a linear layer (A [M, K] and W [N, K] row-major, C [M, N]
/// row-major), with AVX-512 FMA; <see cref="Product"/> is the same on one thread with explicit row strides and W
/// optionally given k-major, which <see cref="PackedAttention"/> uses for its two products.
/// </summary>
/// <remarks>
/// <para>The layout is the classic packed GEMM: for each block of <see cref="KC"/> reduction steps the weight rows of
/// a thread's columns are packed k-major in panels of <see cref="NR"/> columns, the input rows in panels of
/// <see cref="MR"/> rows (blocks of <see cref="MC"/> rows, which stay in L2), and a register-blocked micro-kernel
/// accumulates a 12 × 32 tile of C in 24 zmm registers (one broadcast of A and two loads of W per step feed 24 FMAs).
/// Packing transposes 16 × 16 blocks in registers.</para>
/// <para>Every method is compiled fully optimised on first use (<see cref="MethodImplOptions.AggressiveOptimization"/>):
/// unoptimised first-tier code of the vector loops is an order of magnitude slower, and a short run would spend most of
/// its products there before tiering replaced it.</para>
/// <para>The work is split between threads by rows of C when M ≥ N, else by panels of columns, so the operand every
/// thread packs in full is the smaller one; products under 16 MFLOP run on the calling thread alone. Each thread's
/// packing buffers (3.2 MiB) are pooled and kept for the next product. Every element of C is the same sum in the same order (bias, then the K blocks in
/// order, each a chain of FMAs) whatever M, the split or the thread count, so a record's outputs do not depend on the
/// batch it ran in.</para>
/// </remarks>
internal static unsafe class PackedSgemm
{
    /// <summary>Rows of C per micro-tile (one broadcast register each).</summary>
    public const int MR = 12;

    /// <summary>Columns of C per micro-tile (two zmm registers).</summary>
    public const int NR = 32;

    /// <summary>Reduction steps per packed block: a 32-column panel of W is 48 KiB, the size of L1.</summary>
    public const int KC = 384;

    /// <summary>Rows of A per packed block (144 KiB at <see cref="KC"/>, held in L2).</summary>
    public const int MC = 96;

    /// <summary>Most columns one thread packs at once (3 MiB of packed weights).</summary>
    public const int NC = 2048;

    /// <summary>Below this many floating-point operations (about 0.1 ms of one thread) one thread does the whole
    /// product: handing half of it to another thread costs more than it saves (RNABERT's 1 × 128 forward, whose
    /// products are all smaller: 6.4–6.9 ms this way against 7.1–8.1 ms splitting from 2 MFLOP up).</summary>
    private const double ParallelFlops = 1 << 24;

    private static readonly ConcurrentBag<Workspace> Workspaces = new();

    /// <summary>Whether this processor runs the kernel (AVX-512F; FMA is part of it).</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// Writes <c>c[i, j] = bias[j] + Σₖ a[i, k]·w[j, k]</c> for i &lt; <paramref name="m"/>, j &lt; <paramref name="n"/>.
    /// </summary>
    /// <param name="a">[m, k] row-major.</param>
    /// <param name="w">[n, k] row-major (a linear layer's weight).</param>
    /// <param name="bias">[n], or null for none.</param>
    /// <param name="c">[m, n] row-major; not read.</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Rows of W, columns of C.</param>
    /// <param name="k">The reduction length (columns of A and W).</param>
    /// <param name="threads">Most threads to use (the calling thread is one of them).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear(float* a, float* w, float* bias, float* c, int m, int n, int k, int threads)
    {
        if (!IsSupported) throw new PlatformNotSupportedException("The packed SGEMM kernel needs AVX-512F.");
        if (m <= 0 || n <= 0 || k <= 0) throw new ArgumentOutOfRangeException(nameof(m), $"Empty product [{m}, {k}]·[{n}, {k}]ᵀ.");
        var job = new Job(a, w, bias, c, m, n, k);
        if (2.0 * m * n * k < ParallelFlops) threads = 1;
        int units = job.ByRows ? (m + MR - 1) / MR : (n + NR - 1) / NR;
        threads = Math.Max(1, Math.Min(threads, units));
        if (threads == 1)
        {
            job.RunPart(0, 1);
            return;
        }
        // The parts are independent; a pool thread that starts late leaves its part to the caller.
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, part => job.RunPart(part, threads));
    }

    /// <summary>One product and how it splits: by blocks of <see cref="MR"/> rows when M ≥ N, else by panels of
    /// <see cref="NR"/> columns, in contiguous near-equal shares.</summary>
    private readonly struct Job
    {
        private readonly float* _a, _w, _bias, _c;
        private readonly int _m, _n, _k;

        public Job(float* a, float* w, float* bias, float* c, int m, int n, int k)
        {
            _a = a; _w = w; _bias = bias; _c = c; _m = m; _n = n; _k = k;
        }

        public bool ByRows => _m >= _n;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void RunPart(int part, int parts)
        {
            if (ByRows)
            {
                long blocks = (_m + MR - 1) / MR;
                int r0 = (int)(blocks * part / parts) * MR;
                int r1 = Math.Min(_m, (int)(blocks * (part + 1) / parts) * MR);
                if (r1 > r0) Run(_a + (long)r0 * _k, _w, _bias, _c + (long)r0 * _n, r1 - r0, _n, _k, 0, _n);
            }
            else
            {
                long panels = (_n + NR - 1) / NR;
                int n0 = (int)(panels * part / parts) * NR;
                int n1 = Math.Min(_n, (int)(panels * (part + 1) / parts) * NR);
                if (n1 > n0) Run(_a, _w, _bias, _c, _m, _n, _k, n0, n1);
            }
        }
    }

    /// <summary>Columns [n0, n1) of all m rows, on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run(float* a, float* w, float* bias, float* c, int m, int n, int k, int n0, int n1)
    {
        var workspace = Rent();
        try
        {
            Product(workspace, a, k, w, k, transposedW: false, bias, c, n, m, k, n0, n1);
        }
        finally
        {
            Return(workspace);
        }
    }

    /// <summary>Takes a pooled set of packing buffers (returned with <see cref="Return"/>).</summary>
    internal static Workspace Rent() => Workspaces.TryTake(out var workspace) ? workspace : new Workspace();

    /// <summary>Gives back buffers from <see cref="Rent"/>.</summary>
    internal static void Return(Workspace workspace) => Workspaces.Add(workspace);

    /// <summary>
    /// <c>c[i, j] = bias[j] + Σₖ a[i, k]·W(j, k)</c> for i &lt; m and n0 ≤ j &lt; n1, with explicit row strides:
    /// W(j, k) is <c>w[j·ldw + k]</c> (a weight's rows), or <c>w[k·ldw + j]</c> when <paramref name="transposedW"/>
    /// (the rows of a right-hand matrix, as the values of an attention).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Product(Workspace workspace, float* a, long lda, float* w, long ldw, bool transposedW,
        float* bias, float* c, long ldc, int m, int k, int n0, int n1)
    {
        float* ap = workspace.A;
        float* bp = workspace.B;
        float* tile = stackalloc float[MR * NR];
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            bool first = pc == 0;
            for (int jc = n0; jc < n1; jc += NC)
            {
                int nc = Math.Min(NC, n1 - jc);
                for (int jr = 0; jr < nc; jr += NR)
                {
                    if (transposedW) PackColumns(w + (long)pc * ldw + jc + jr, ldw, Math.Min(NR, nc - jr), kc, bp + (long)jr * kc);
                    else PackPanel(w + (long)(jc + jr) * ldw + pc, ldw, Math.Min(NR, nc - jr), NR, kc, bp + (long)jr * kc);
                }
                for (int ic = 0; ic < m; ic += MC)
                {
                    int mc = Math.Min(MC, m - ic);
                    for (int ir = 0; ir < mc; ir += MR)
                    {
                        PackPanel(a + (long)(ic + ir) * lda + pc, lda, Math.Min(MR, mc - ir), MR, kc, ap + (long)ir * kc);
                    }
                    for (int jr = 0; jr < nc; jr += NR)
                    {
                        int nr = Math.Min(NR, nc - jr);
                        float* panel = bp + (long)jr * kc;
                        float* biasTile = bias == null ? null : bias + jc + jr;
                        for (int ir = 0; ir < mc; ir += MR)
                        {
                            int mr = Math.Min(MR, mc - ir);
                            float* cTile = c + (long)(ic + ir) * ldc + jc + jr;
                            if (mr == MR && nr == NR)
                            {
                                Kernel(ap + (long)ir * kc, panel, kc, cTile, ldc, first, biasTile, NR);
                            }
                            else
                            {
                                // An edge tile runs the same kernel on a full tile in scratch memory.
                                if (!first) CopyTile(cTile, ldc, tile, NR, mr, nr);
                                Kernel(ap + (long)ir * kc, panel, kc, tile, NR, first, biasTile, nr);
                                CopyTile(tile, NR, cTile, ldc, mr, nr);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary><c>dst[kk·32 + j] = src[kk·ld + j]</c> for kk &lt; kc and j &lt; columns, zero for columns ≤ j &lt; 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackColumns(float* src, long ld, int columns, int kc, float* dst)
    {
        for (int kk = 0; kk < kc; kk++)
        {
            float* s = src + kk * ld;
            float* d = dst + (long)kk * NR;
            if (columns == NR)
            {
                Vector512.Load(s).Store(d);
                Vector512.Load(s + 16).Store(d + 16);
            }
            else
            {
                for (int j = 0; j < NR; j++) d[j] = j < columns ? s[j] : 0f;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyTile(float* from, long fromStride, float* to, long toStride, int rows, int columns)
    {
        for (int i = 0; i < rows; i++)
        {
            new ReadOnlySpan<float>(from + i * fromStride, columns).CopyTo(new Span<float>(to + i * toStride, columns));
        }
    }

    /// <summary>
    /// <c>dst[kk·width + r] = src[r·ld + kk]</c> for kk &lt; kc and r &lt; rows, zero for rows ≤ r &lt; width.
    /// </summary>
    /// <remarks>With width 12 each transposed 16-float row is stored whole, spilling four floats into the next step,
    /// which the next store (or the scalar tail) overwrites; the buffer has 16 floats of slack for the last one, and
    /// panels are packed in increasing order so a spill into the next panel is overwritten too.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanel(float* src, long ld, int rows, int width, int kc, float* dst)
    {
        int full = kc & ~15;
        for (int g = 0; g < width; g += 16)
        {
            for (int k0 = 0; k0 < full; k0 += 16)
            {
                float* s = src + (long)g * ld + k0;
                int valid = rows - g;
                var r0 = Row(s, ld, 0, valid); var r1 = Row(s, ld, 1, valid); var r2 = Row(s, ld, 2, valid); var r3 = Row(s, ld, 3, valid);
                var r4 = Row(s, ld, 4, valid); var r5 = Row(s, ld, 5, valid); var r6 = Row(s, ld, 6, valid); var r7 = Row(s, ld, 7, valid);
                var r8 = Row(s, ld, 8, valid); var r9 = Row(s, ld, 9, valid); var r10 = Row(s, ld, 10, valid); var r11 = Row(s, ld, 11, valid);
                var r12 = Row(s, ld, 12, valid); var r13 = Row(s, ld, 13, valid); var r14 = Row(s, ld, 14, valid); var r15 = Row(s, ld, 15, valid);

                // Pairs of rows interleaved, then pairs of pairs: lane l of q[4i + j] holds rows 4i..4i+3 of column 4l + j.
                var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
                var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
                var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
                var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
                var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
                var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
                var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
                var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);
                Quad(t0, t1, t2, t3, out var q0, out var q1, out var q2, out var q3);
                Quad(t4, t5, t6, t7, out var q4, out var q5, out var q6, out var q7);
                Quad(t8, t9, t10, t11, out var q8, out var q9, out var q10, out var q11);
                Quad(t12, t13, t14, t15, out var q12, out var q13, out var q14, out var q15);

                Columns(q0, q4, q8, q12, out var k0c, out var k4c, out var k8c, out var k12c);
                Columns(q1, q5, q9, q13, out var k1c, out var k5c, out var k9c, out var k13c);
                Columns(q2, q6, q10, q14, out var k2c, out var k6c, out var k10c, out var k14c);
                Columns(q3, q7, q11, q15, out var k3c, out var k7c, out var k11c, out var k15c);

                // In increasing k, so each store's spill past a 12-wide row is overwritten by the next one.
                float* d = dst + (long)k0 * width + g;
                k0c.Store(d); k1c.Store(d + width); k2c.Store(d + 2 * width); k3c.Store(d + 3 * width);
                k4c.Store(d + 4 * width); k5c.Store(d + 5 * width); k6c.Store(d + 6 * width); k7c.Store(d + 7 * width);
                k8c.Store(d + 8 * width); k9c.Store(d + 9 * width); k10c.Store(d + 10 * width); k11c.Store(d + 11 * width);
                k12c.Store(d + 12 * width); k13c.Store(d + 13 * width); k14c.Store(d + 14 * width); k15c.Store(d + 15 * width);
            }
        }
        for (int kk = full; kk < kc; kk++)
        {
            for (int r = 0; r < width; r++) dst[(long)kk * width + r] = r < rows ? src[r * ld + kk] : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* s, long ld, int r, int valid)
        => r < valid ? Vector512.Load(s + r * ld) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(Vector512<float> t0, Vector512<float> t1, Vector512<float> t2, Vector512<float> t3,
        out Vector512<float> q0, out Vector512<float> q1, out Vector512<float> q2, out Vector512<float> q3)
    {
        q0 = Avx512F.UnpackLow(t0.AsDouble(), t2.AsDouble()).AsSingle();
        q1 = Avx512F.UnpackHigh(t0.AsDouble(), t2.AsDouble()).AsSingle();
        q2 = Avx512F.UnpackLow(t1.AsDouble(), t3.AsDouble()).AsSingle();
        q3 = Avx512F.UnpackHigh(t1.AsDouble(), t3.AsDouble()).AsSingle();
    }

    /// <summary>
    /// From the four row groups' vectors for one column offset j (lane l: rows 4g..4g+3 of column 4l + j), the full
    /// 16-row columns j, 4 + j, 8 + j and 12 + j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3,
        out Vector512<float> column, out Vector512<float> column4, out Vector512<float> column8, out Vector512<float> column12)
    {
        var lowPairs = Avx512F.Shuffle4x128(g0, g1, 0x88);  // columns j, 8 + j of groups 0, 1
        var highPairs = Avx512F.Shuffle4x128(g0, g1, 0xDD); // columns 4 + j, 12 + j of groups 0, 1
        var lowPairs2 = Avx512F.Shuffle4x128(g2, g3, 0x88);
        var highPairs2 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        column = Avx512F.Shuffle4x128(lowPairs, lowPairs2, 0x88);
        column4 = Avx512F.Shuffle4x128(highPairs, highPairs2, 0x88);
        column8 = Avx512F.Shuffle4x128(lowPairs, lowPairs2, 0xDD);
        column12 = Avx512F.Shuffle4x128(highPairs, highPairs2, 0xDD);
    }

    /// <summary>
    /// One 12 × 32 tile: starts from the bias (or zero) on the first K block, else from C, and adds kc rank-1 updates
    /// from the packed panels.
    /// </summary>
    /// <param name="ap">The packed A panel, [kc][12].</param>
    /// <param name="bp">The packed W panel, [kc][32].</param>
    /// <param name="kc">Reduction steps in this block.</param>
    /// <param name="c">The tile's first element.</param>
    /// <param name="ldc">Elements between rows of C.</param>
    /// <param name="first">Whether this is the first K block (start from the bias, not from C).</param>
    /// <param name="bias">The tile's 32 bias entries, or null.</param>
    /// <param name="columns">Valid bias entries (32 except at the right edge).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* ap, float* bp, int kc, float* c, long ldc, bool first, float* bias, int columns)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        Vector512<float> c60, c61, c70, c71, c80, c81, c90, c91, ca0, ca1, cb0, cb1;
        if (first)
        {
            Vector512<float> b0 = Vector512<float>.Zero, b1 = Vector512<float>.Zero;
            if (bias != null)
            {
                if (columns == NR)
                {
                    b0 = Vector512.Load(bias);
                    b1 = Vector512.Load(bias + 16);
                }
                else
                {
                    float* padded = stackalloc float[NR];
                    for (int j = 0; j < NR; j++) padded[j] = j < columns ? bias[j] : 0f;
                    b0 = Vector512.Load(padded);
                    b1 = Vector512.Load(padded + 16);
                }
            }
            c00 = c10 = c20 = c30 = c40 = c50 = c60 = c70 = c80 = c90 = ca0 = cb0 = b0;
            c01 = c11 = c21 = c31 = c41 = c51 = c61 = c71 = c81 = c91 = ca1 = cb1 = b1;
        }
        else
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + ldc); c11 = Vector512.Load(c + ldc + 16);
            c20 = Vector512.Load(c + 2 * ldc); c21 = Vector512.Load(c + 2 * ldc + 16);
            c30 = Vector512.Load(c + 3 * ldc); c31 = Vector512.Load(c + 3 * ldc + 16);
            c40 = Vector512.Load(c + 4 * ldc); c41 = Vector512.Load(c + 4 * ldc + 16);
            c50 = Vector512.Load(c + 5 * ldc); c51 = Vector512.Load(c + 5 * ldc + 16);
            c60 = Vector512.Load(c + 6 * ldc); c61 = Vector512.Load(c + 6 * ldc + 16);
            c70 = Vector512.Load(c + 7 * ldc); c71 = Vector512.Load(c + 7 * ldc + 16);
            c80 = Vector512.Load(c + 8 * ldc); c81 = Vector512.Load(c + 8 * ldc + 16);
            c90 = Vector512.Load(c + 9 * ldc); c91 = Vector512.Load(c + 9 * ldc + 16);
            ca0 = Vector512.Load(c + 10 * ldc); ca1 = Vector512.Load(c + 10 * ldc + 16);
            cb0 = Vector512.Load(c + 11 * ldc); cb1 = Vector512.Load(c + 11 * ldc + 16);
        }
        for (int step = 0; step < kc; step++)
        {
            var w0 = Vector512.Load(bp);
            var w1 = Vector512.Load(bp + 16);
            Vector512<float> x;
            x = Vector512.Create(ap[0]); c00 = Avx512F.FusedMultiplyAdd(x, w0, c00); c01 = Avx512F.FusedMultiplyAdd(x, w1, c01);
            x = Vector512.Create(ap[1]); c10 = Avx512F.FusedMultiplyAdd(x, w0, c10); c11 = Avx512F.FusedMultiplyAdd(x, w1, c11);
            x = Vector512.Create(ap[2]); c20 = Avx512F.FusedMultiplyAdd(x, w0, c20); c21 = Avx512F.FusedMultiplyAdd(x, w1, c21);
            x = Vector512.Create(ap[3]); c30 = Avx512F.FusedMultiplyAdd(x, w0, c30); c31 = Avx512F.FusedMultiplyAdd(x, w1, c31);
            x = Vector512.Create(ap[4]); c40 = Avx512F.FusedMultiplyAdd(x, w0, c40); c41 = Avx512F.FusedMultiplyAdd(x, w1, c41);
            x = Vector512.Create(ap[5]); c50 = Avx512F.FusedMultiplyAdd(x, w0, c50); c51 = Avx512F.FusedMultiplyAdd(x, w1, c51);
            x = Vector512.Create(ap[6]); c60 = Avx512F.FusedMultiplyAdd(x, w0, c60); c61 = Avx512F.FusedMultiplyAdd(x, w1, c61);
            x = Vector512.Create(ap[7]); c70 = Avx512F.FusedMultiplyAdd(x, w0, c70); c71 = Avx512F.FusedMultiplyAdd(x, w1, c71);
            x = Vector512.Create(ap[8]); c80 = Avx512F.FusedMultiplyAdd(x, w0, c80); c81 = Avx512F.FusedMultiplyAdd(x, w1, c81);
            x = Vector512.Create(ap[9]); c90 = Avx512F.FusedMultiplyAdd(x, w0, c90); c91 = Avx512F.FusedMultiplyAdd(x, w1, c91);
            x = Vector512.Create(ap[10]); ca0 = Avx512F.FusedMultiplyAdd(x, w0, ca0); ca1 = Avx512F.FusedMultiplyAdd(x, w1, ca1);
            x = Vector512.Create(ap[11]); cb0 = Avx512F.FusedMultiplyAdd(x, w0, cb0); cb1 = Avx512F.FusedMultiplyAdd(x, w1, cb1);
            ap += MR;
            bp += NR;
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + ldc); c11.Store(c + ldc + 16);
        c20.Store(c + 2 * ldc); c21.Store(c + 2 * ldc + 16);
        c30.Store(c + 3 * ldc); c31.Store(c + 3 * ldc + 16);
        c40.Store(c + 4 * ldc); c41.Store(c + 4 * ldc + 16);
        c50.Store(c + 5 * ldc); c51.Store(c + 5 * ldc + 16);
        c60.Store(c + 6 * ldc); c61.Store(c + 6 * ldc + 16);
        c70.Store(c + 7 * ldc); c71.Store(c + 7 * ldc + 16);
        c80.Store(c + 8 * ldc); c81.Store(c + 8 * ldc + 16);
        c90.Store(c + 9 * ldc); c91.Store(c + 9 * ldc + 16);
        ca0.Store(c + 10 * ldc); ca1.Store(c + 10 * ldc + 16);
        cb0.Store(c + 11 * ldc); cb1.Store(c + 11 * ldc + 16);
    }

    /// <summary>One thread's packing buffers (64-byte aligned, native, reused across calls and never freed).</summary>
    internal sealed class Workspace
    {
        public readonly float* A = Allocate(MC * KC + 16);
        public readonly float* B = Allocate(NC * KC);
        private float* _scratch;
        private long _scratchFloats;

        /// <summary>A buffer of at least <paramref name="floats"/> floats, kept and grown as needed.</summary>
        public float* Scratch(long floats)
        {
            if (floats > _scratchFloats)
            {
                if (_scratch != null) System.Runtime.InteropServices.NativeMemory.AlignedFree(_scratch);
                _scratch = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
                _scratchFloats = floats;
            }
            return _scratch;
        }

        private static float* Allocate(int floats)
            => (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64);
    }
}
