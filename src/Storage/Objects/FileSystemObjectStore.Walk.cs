namespace LokiSharp.Storage.Objects;

public sealed partial class FileSystemObjectStore
{
    // Yields the objects under a directory in ordinal key order. A directory sorts as its name plus '/', as its
    // keys do: "a-c" < "a/b" < "a0", which is where S3 would list them.
    private static IEnumerable<ObjectInfo> Walk(string directory, string keyPrefix, string namePrefix)
    {
        List<(string SortName, FileSystemInfo Entry)> entries = [];
        try
        {
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                var name = entry.Name;
                if (!name.StartsWith(namePrefix, StringComparison.Ordinal) || IsUnfinishedWrite(name))
                {
                    continue;
                }

                entries.Add((entry is DirectoryInfo ? name + "/" : name, entry));
            }
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.SortName, b.SortName));
        foreach (var (sortName, entry) in entries)
        {
            if (entry is DirectoryInfo)
            {
                foreach (var info in Walk(entry.FullName, keyPrefix + sortName, ""))
                {
                    yield return info;
                }

                continue;
            }

            long size;
            try
            {
                size = ((FileInfo)entry).Length;
            }
            catch (FileNotFoundException)
            {
                // Deleted since the directory was read.
                continue;
            }

            yield return new ObjectInfo(keyPrefix + sortName, size);
        }
    }

    // DurableFile's temporary names: "<name>.<32 hex digits>.tmp". Keys cannot end in ".tmp" (ObjectKey).
    private static bool IsUnfinishedWrite(string name) =>
        name.EndsWith(Store.DurableFile.TempSuffix, StringComparison.Ordinal);
}
