using Microsoft.Data.Sqlite;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// The per-image metric table in SQLite. All rows of a job are written in one transaction, so a run killed at any
/// moment leaves each job either complete or absent — never a half row or half job — and resume skips exactly the
/// complete ones. The database records the fingerprint of the study it was made for (<see cref="BindStudy"/>).
/// </summary>
public sealed class StudyResultStore : IDisposable
{
    private const string Columns = "job_key, image_index, strategy, family, concept, prompt, seed, identity, context, rows_per_image, image_path";
    private const int ReadOnly = 8, CantOpen = 14;
    private const string FingerprintKey = "fingerprint", SourceKey = "source";
    private readonly SqliteConnection _connection;

    private StudyResultStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Opens (creating if needed) a results database.</summary>
    /// <exception cref="PersonGenException">The file exists but is not a results database.</exception>
    public static StudyResultStore Open(string path)
    {
        string folder = StudyFolder.Create(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS images (
                  job_key TEXT NOT NULL, image_index INTEGER NOT NULL, strategy TEXT NOT NULL, family TEXT NOT NULL,
                  concept TEXT NOT NULL, prompt TEXT NOT NULL, seed INTEGER NOT NULL, identity REAL NOT NULL,
                  context REAL NOT NULL, rows_per_image REAL NOT NULL, image_path TEXT NOT NULL,
                  PRIMARY KEY (job_key, image_index));
                CREATE TABLE IF NOT EXISTS study (key TEXT PRIMARY KEY, value TEXT NOT NULL)
                """);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            if (e.SqliteErrorCode is CantOpen or ReadOnly) throw StudyFolder.NotWritable(folder, e);
            throw new PersonGenException($"results file '{path}' cannot be used ({e.Message}): delete it or pass another output folder");
        }
        return new StudyResultStore(connection, path);
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
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"INSERT OR IGNORE INTO images ({Columns}) VALUES ($k, $i, $s, $f, $c, $p, $seed, $id, $ctx, $rows, $path)";
        var names = new[] { "$k", "$i", "$s", "$f", "$c", "$p", "$seed", "$id", "$ctx", "$rows", "$path" };
        var parameters = names.Select(n => command.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        foreach (var row in rows)
        {
            object[] values = [row.JobKey, row.ImageIndex, row.Strategy, row.Family, row.Concept, row.Prompt, row.Seed,
                row.Identity, row.Context, row.RowsPerImage, row.ImagePath];
            for (int i = 0; i < values.Length; i++) parameters[i].Value = values[i];
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// <summary>All rows ordered by job key and image index.</summary>
    public IReadOnlyList<ImageMetricRow> ReadAll()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"SELECT {Columns} FROM images ORDER BY job_key, image_index";
        using var reader = command.ExecuteReader();
        var rows = new List<ImageMetricRow>();
        while (reader.Read())
            rows.Add(new ImageMetricRow(reader.GetString(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetInt32(6), reader.GetDouble(7), reader.GetDouble(8),
                reader.GetDouble(9), reader.GetString(10)));
        return rows;
    }

    public void Dispose() => _connection.Dispose();

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
