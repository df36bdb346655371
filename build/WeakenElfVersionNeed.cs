// MSBuild inline task (RoslynCodeTaskFactory, Type="Class"): marks one symbol-version requirement
// of an ELF shared library as weak, so the dynamic loader accepts a system library that lacks it.
//
// Why: libLibTorchSharp.so in TorchSharp 0.107 declares a need for GLIBCXX_3.4.32, Debian 12's
// libstdc++ stops at 3.4.30, and the need comes from one symbol reference that no relocation uses.
// Setting VER_FLG_WEAK (0x2) on that Vernaux entry of .gnu.version_r lets the library load.
//
// The task changes nothing when the system libstdc++ already provides the version (unless Always is
// set: publish output runs on other machines), when the file has no such requirement, or when the flag
// is already set (idempotent). A weak need costs nothing where the version exists. A changed file is written
// to a temporary name and renamed over the original, which also breaks any hard link to the NuGet
// cache, so the package cache is never edited.
// (Compiled by MSBuild against netstandard: no nullable annotations, no span APIs.)
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class WeakenElfVersionNeed : Task
{
    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string Version { get; set; } = "";
    /// <summary>Libraries that may provide <see cref="Version"/>; the first that exists is checked.</summary>
    public string[] ProviderCandidates { get; set; } = Array.Empty<string>();
    /// <summary>Mark the need weak even when this machine's libstdc++ provides the version (output for other machines).</summary>
    public bool Always { get; set; }

    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (Files.Length == 0) return true;
        string provider = Array.Find(ProviderCandidates, File.Exists);
        if (!Always && provider != null && ContainsVersionString(provider, Version))
        {
            Log.LogMessage(MessageImportance.Low, $"{provider} provides {Version}; nothing to patch.");
            return true;
        }
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                byte[] bytes = File.ReadAllBytes(path);
                int changed = Patch(bytes, Version);
                if (changed < 0) { Log.LogMessage(MessageImportance.Low, $"{path}: no need for {Version}."); continue; }
                if (changed == 0) { Log.LogMessage(MessageImportance.Low, $"{path}: {Version} already weak."); continue; }
                string tmp = path + ".weakening.tmp";
                File.WriteAllBytes(tmp, bytes);
                File.SetLastWriteTimeUtc(tmp, File.GetLastWriteTimeUtc(path));
                File.Delete(path); // unlink first: never write through a hard link into the package cache
                File.Move(tmp, path);
                Log.LogMessage(MessageImportance.High, $"Marked {Version} weak in {path}" + (Always ? "." : " (system libstdc++ lacks it)."));
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is InvalidDataException)
            {
                Log.LogError($"{path}: cannot mark {Version} weak: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static bool ContainsVersionString(string library, string version)
    {
        byte[] hay = File.ReadAllBytes(library);
        byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
        for (int i = 0; i + needle.Length <= hay.Length; i++)
        {
            if (hay[i] != needle[0]) continue;
            int j = 1;
            while (j < needle.Length && hay[i + j] == needle[j]) j++;
            if (j == needle.Length) return true;
        }
        return false;
    }

    /// <returns>-1 if the file has no Vernaux entry for <paramref name="version"/>; otherwise the number
    /// of entries changed (0 when all were already weak).</returns>
    public static int Patch(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1) throw new InvalidDataException("only 64-bit little-endian ELF is supported");
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        int found = -1;
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + (long)i * shentsize;
            if (BitConverter.ToUInt32(elf, (int)sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)BitConverter.ToUInt64(elf, (int)sh + 0x18);
            int link = (int)BitConverter.ToUInt32(elf, (int)sh + 0x28);
            int count = (int)BitConverter.ToUInt32(elf, (int)sh + 0x2C); // sh_info = number of Verneed entries
            long strtab = (long)BitConverter.ToUInt64(elf, (int)(shoff + (long)link * shentsize) + 0x18);
            long vn = offset;
            for (int n = 0; n < count; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)vn + 2);
                long aux = vn + BitConverter.ToUInt32(elf, (int)vn + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int flagsAt = (int)aux + 4;
                    uint name = BitConverter.ToUInt32(elf, (int)aux + 8);
                    if (ReadCString(elf, strtab + name) == version)
                    {
                        if (found < 0) found = 0;
                        ushort flags = BitConverter.ToUInt16(elf, flagsAt);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            ushort weak = (ushort)(flags | VerFlgWeak);
                            elf[flagsAt] = (byte)(weak & 0xff);
                            elf[flagsAt + 1] = (byte)(weak >> 8);
                            found++;
                        }
                    }
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                if (next == 0) break;
                vn += next;
            }
        }
        return found;
    }

    private static string ReadCString(byte[] data, long at)
    {
        int end = Array.IndexOf(data, (byte)0, (int)at);
        return Encoding.ASCII.GetString(data, (int)at, end - (int)at);
    }
}
