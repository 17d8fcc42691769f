using Microsoft.Data.Sqlite;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// The per-image metric table in SQLite: one row per image (job, index, strategy, concept, prompt, seed, cost, path)
/// and one per (job, image, metric, value). All rows of a job are written in one transaction, so a run killed at any
/// moment leaves each job either complete or absent — never a half row or half job — and resume skips exactly the
/// complete ones. The database records its <see cref="SchemaVersion"/> and the fingerprint of the study it was made
/// for (<see cref="BindStudy"/>).
/// </summary>
public sealed class StudyResultStore : IDisposable
{
    /// <summary>The layout this code writes; 1 was the fixed identity/context columns of earlier PersonGen versions.</summary>
    public const int SchemaVersion = 2;

    private const string Columns = "job_key, image_index, strategy, family, concept, prompt, seed, rows_per_image, image_path";
    private const int ReadOnly = 8, CantOpen = 14;
    private const string FingerprintKey = "fingerprint", SourceKey = "source", SchemaKey = "schema_version";
    private readonly SqliteConnection _connection;

    private StudyResultStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (creating if needed) a results database.</summary>
    /// <exception cref="PersonGenException">The file exists but is not a results database, or has another schema version.</exception>
    public static StudyResultStore Open(string path)
    {
        string folder = StudyFolder.Create(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        int version;
        try
        {
            connection.Open();
            using (var transaction = connection.BeginTransaction())
            {
                version = StoredVersion(connection, transaction) ?? Create(connection, transaction);
                transaction.Commit();
            }
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            if (e.SqliteErrorCode is CantOpen or ReadOnly) throw StudyFolder.NotWritable(folder, e);
            throw new PersonGenException($"results file '{path}' cannot be used ({e.Message}): delete it or pass another output folder");
        }
        if (version != SchemaVersion)
        {
            connection.Dispose();
            throw new PersonGenException($"results file '{path}' has results schema version {version}, this PersonGen reads version {SchemaVersion}: " +
                "rerun the study into another output folder (or delete the file)");
        }
        return new StudyResultStore(connection, path);
    }

    // Null for an empty database; 1 for one with tables but no recorded version (the layout before versions were recorded).
    private static int? StoredVersion(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table'";
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0) return null;
        command.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'study'";
        if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0) return 1;
        command.CommandText = $"SELECT value FROM study WHERE key = '{SchemaKey}'";
        return command.ExecuteScalar() is string text && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out int version) ? version : 1;
    }

    private static int Create(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            CREATE TABLE images (
              job_key TEXT NOT NULL, image_index INTEGER NOT NULL, strategy TEXT NOT NULL, family TEXT NOT NULL,
              concept TEXT NOT NULL, prompt TEXT NOT NULL, seed INTEGER NOT NULL, rows_per_image REAL NOT NULL,
              image_path TEXT NOT NULL, PRIMARY KEY (job_key, image_index));
            CREATE TABLE metric_values (
              job_key TEXT NOT NULL, image_index INTEGER NOT NULL, metric TEXT NOT NULL, value REAL NOT NULL,
              PRIMARY KEY (job_key, image_index, metric));
            CREATE TABLE study (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            INSERT INTO study (key, value) VALUES ('{SchemaKey}', '{SchemaVersion}')
            """;
        command.ExecuteNonQuery();
        return SchemaVersion;
    }

    /// <summary>The fingerprint of the study these results were made for, or null while none is recorded.</summary>
    public string? StudyFingerprint => ReadStudy(FingerprintKey);

    /// <summary>
    /// Records that these results belong to the study with <paramref name="fingerprint"/> (loaded from
    /// <paramref name="source"/>), or checks that they already do.
    /// </summary>
    /// <exception cref="PersonGenException">The results were made for another study, or hold rows of an unrecorded one.</exception>
    public void BindStudy(string fingerprint, string? source)
    {
        RequireStudy(fingerprint, source, allowUnbound: true);
        if (StudyFingerprint is not null) return;
        using var command = _connection.CreateCommand();
        command.CommandText = "INSERT INTO study (key, value) VALUES ($f, $fv), ($s, $sv)";
        command.Parameters.AddWithValue("$f", FingerprintKey);
        command.Parameters.AddWithValue("$fv", fingerprint);
        command.Parameters.AddWithValue("$s", SourceKey);
        command.Parameters.AddWithValue("$sv", source ?? "(built in code)");
        command.ExecuteNonQuery();
    }

    /// <summary>Checks that these results were made for the study with <paramref name="fingerprint"/>.</summary>
    /// <exception cref="PersonGenException">They were made for another study, or record none.</exception>
    public void RequireStudy(string fingerprint, string? source, bool allowUnbound = false)
    {
        string? recorded = StudyFingerprint;
        if (recorded == fingerprint || (recorded is null && allowUnbound && FinishedJobKeys().Count == 0)) return;
        string theirs = recorded is null ? "a study it does not record (an older PersonGen)" : $"study {recorded} (from '{ReadStudy(SourceKey)}')";
        throw new PersonGenException($"results '{Path}' were made for {theirs}, not for study {fingerprint} (from '{source ?? "(built in code)"}'): " +
            "use another output folder for a changed study, or pass the study file the results were made for");
    }

    private string? ReadStudy(string key)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT value FROM study WHERE key = $k";
        command.Parameters.AddWithValue("$k", key);
        return command.ExecuteScalar() as string;
    }

    /// <summary>Keys of the jobs whose rows are stored.</summary>
    public IReadOnlySet<string> FinishedJobKeys()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT DISTINCT job_key FROM images";
        using var reader = command.ExecuteReader();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read()) keys.Add(reader.GetString(0));
        return keys;
    }

    /// <summary>Appends rows in one transaction; rows whose (job, image) already exist are left as they are.</summary>
    public void Append(IReadOnlyList<ImageMetricRow> rows)
    {
        using var transaction = _connection.BeginTransaction();
        using var image = _connection.CreateCommand();
        image.Transaction = transaction;
        image.CommandText = $"INSERT OR IGNORE INTO images ({Columns}) VALUES ($k, $i, $s, $f, $c, $p, $seed, $rows, $path)";
        var parameters = new[] { "$k", "$i", "$s", "$f", "$c", "$p", "$seed", "$rows", "$path" }
            .Select(n => image.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        using var value = _connection.CreateCommand();
        value.Transaction = transaction;
        value.CommandText = "INSERT OR IGNORE INTO metric_values (job_key, image_index, metric, value) VALUES ($k, $i, $m, $v)";
        var valueParameters = new[] { "$k", "$i", "$m", "$v" }.Select(n => value.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        foreach (var row in rows)
        {
            object[] values = [row.JobKey, row.ImageIndex, row.Strategy, row.Family, row.Concept, row.Prompt, row.Seed, row.RowsPerImage, row.ImagePath];
            for (int i = 0; i < values.Length; i++) parameters[i].Value = values[i];
            if (image.ExecuteNonQuery() == 0) continue;
            foreach (var (metric, number) in row.Values)
            {
                object[] entry = [row.JobKey, row.ImageIndex, metric, number];
                for (int i = 0; i < entry.Length; i++) valueParameters[i].Value = entry[i];
                value.ExecuteNonQuery();
            }
        }
        transaction.Commit();
    }

    /// <summary>All rows ordered by job key and image index, each with its metric values.</summary>
    public IReadOnlyList<ImageMetricRow> ReadAll()
    {
        var values = new Dictionary<(string, int), Dictionary<string, double>>();
        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT job_key, image_index, metric, value FROM metric_values ORDER BY rowid";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var key = (reader.GetString(0), reader.GetInt32(1));
                if (!values.TryGetValue(key, out var byMetric)) values[key] = byMetric = new Dictionary<string, double>(StringComparer.Ordinal);
                byMetric[reader.GetString(2)] = reader.GetDouble(3);
            }
        }
        using var images = _connection.CreateCommand();
        images.CommandText = $"SELECT {Columns} FROM images ORDER BY job_key, image_index";
        using var rows = images.ExecuteReader();
        var result = new List<ImageMetricRow>();
        while (rows.Read())
        {
            string job = rows.GetString(0);
            int index = rows.GetInt32(1);
            result.Add(new ImageMetricRow(job, index, rows.GetString(2), rows.GetString(3), rows.GetString(4), rows.GetString(5), rows.GetInt32(6),
                values.GetValueOrDefault((job, index)) ?? [], rows.GetDouble(7), rows.GetString(8)));
        }
        return result;
    }

    public void Dispose() => _connection.Dispose();
}
