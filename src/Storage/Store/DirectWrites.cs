using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace LokiSharp.Storage.Store;

/// <summary>
/// Direct I/O (Linux <c>O_DIRECT</c>) for files that are written once and read back only after a restart, such as the
/// write-ahead log: their bytes go from an aligned buffer to the disk without a copy into the kernel's page cache.
/// .NET has no option for it on Linux, so the flag is set on the open descriptor.
/// </summary>
public static partial class DirectWrites
{
    /// <summary>
    /// What offsets, lengths and buffer addresses of direct writes are multiples of: 4 KiB covers disks with 512-byte and
    /// with 4 KiB logical blocks.
    /// </summary>
    public const int Alignment = 4096;

    private const int GetFlags = 3;
    private const int SetFlags = 4;

    /// <summary>
    /// Switches <paramref name="file"/> to direct I/O; false when this system or file system has none (older kernels'
    /// tmpfs, other operating systems), and the file stays as it was.
    /// </summary>
    public static bool TryEnable(SafeFileHandle file) => TrySet(file, direct: true);

    /// <summary>Switches <paramref name="file"/> back to writes through the page cache; false when that failed.</summary>
    public static bool TryDisable(SafeFileHandle file) => TrySet(file, direct: false);

    private static bool TrySet(SafeFileHandle file, bool direct)
    {
        var flag = DirectFlag();
        if (flag == 0)
        {
            return !direct;
        }

        var fd = (int)file.DangerousGetHandle();
        var flags = Fcntl(fd, GetFlags, 0);
        return flags >= 0 && Fcntl(fd, SetFlags, direct ? flags | flag : flags & ~flag) == 0;
    }

    // O_DIRECT's value differs between architectures.
    private static int DirectFlag() => !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x4000,
        Architecture.Arm64 or Architecture.Arm => 0x10000,
        _ => 0,
    };

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}
