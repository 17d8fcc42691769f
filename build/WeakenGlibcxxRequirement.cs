using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

/// <summary>Sets VER_FLG_WEAK on one libstdc++ version requirement in ELF64 files' .gnu.version_r.</summary>
public sealed class WeakenGlibcxxRequirement : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlagWeak = 0x2;

    public override bool Execute()
    {
        if (HostHasVersion())
        {
            Log.LogMessage(MessageImportance.Low, $"Host libstdc++ provides {VersionName}; no patch needed.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.ItemSpec;
            byte[] elf = File.ReadAllBytes(path);
            int changed = Weaken(elf);
            if (changed < 0) { Log.LogWarning($"{path}: not an ELF64 file with .gnu.version_r; left as is."); continue; }
            if (changed == 0) continue;
            string temp = path + ".weak.tmp";
            File.WriteAllBytes(temp, elf);
            File.Delete(path); // unlink first: a hard link to the NuGet cache must keep the original bytes
            File.Move(temp, path);
            Log.LogMessage(MessageImportance.High, $"Marked {VersionName} weak in {path} (host libstdc++ lacks it).");
        }
        return !Log.HasLoggedErrors;
    }

    private bool HostHasVersion()
    {
        string[] candidates =
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        };
        byte[] needle = Encoding.ASCII.GetBytes(VersionName + "\0");
        foreach (string candidate in candidates)
        {
            if (!File.Exists(candidate)) continue;
            byte[] bytes = File.ReadAllBytes(candidate);
            return IndexOf(bytes, needle) >= 0;
        }
        return true; // No libstdc++ where we look: not a glibc system we know; leave the library alone.
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    /// <returns>Number of entries newly marked weak; -1 when the file is not a usable ELF64.</returns>
    private int Weaken(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F' || elf[4] != 2)
            return -1;
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int s = 0; s < shnum; s++)
        {
            long header = shoff + (long)s * shentsize;
            if (BitConverter.ToUInt32(elf, (int)header + 4) != ShtGnuVerneed) continue;
            long offset = BitConverter.ToInt64(elf, (int)header + 0x18);
            int link = BitConverter.ToInt32(elf, (int)header + 0x28);
            int count = BitConverter.ToInt32(elf, (int)header + 0x2C);
            long strtab = BitConverter.ToInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            int changed = 0;
            long need = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long name = strtab + BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, name) == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)aux + 4);
                        if ((flags & VerFlagWeak) == 0)
                        {
                            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, (int)aux + 4);
                            changed++;
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
            return changed;
        }
        return -1;
    }

    private static string ReadCString(byte[] bytes, long start)
    {
        long end = start;
        while (end < bytes.Length && bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
    }
}
