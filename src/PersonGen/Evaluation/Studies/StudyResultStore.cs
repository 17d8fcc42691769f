using Microsoft.Data.Sqlite;

namespace PersonGen.Evaluation.Studies;

/// <summary>
/// The per-image metric table in SQLite. All rows of a job are written in one transaction, so a run killed at any
/// moment leaves each job either complete or absent — never a half row or half job — and resume skips exactly the
/// complete ones.
/// </summary>
public sealed class StudyResultStore : IDisposable
{
    private const string Columns = "job_key, image_index, strategy, family, concept, prompt, seed, identity, context, rows_per_image, image_path";
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
        string? folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            Execute(connection, """
                CREATE TABLE IF NOT EXISTS images (
                  job_key TEXT NOT NULL, image_index INTEGER NOT NULL, strategy TEXT NOT NULL, family TEXT NOT NULL,
                  concept TEXT NOT NULL, prompt TEXT NOT NULL, seed INTEGER NOT NULL, identity REAL NOT NULL,
                  context REAL NOT NULL, rows_per_image REAL NOT NULL, image_path TEXT NOT NULL,
                  PRIMARY KEY (job_key, image_index))
                """);
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new PersonGenException($"results file '{path}' cannot be used ({e.Message}): delete it or pass another output folder");
        }
        return new StudyResultStore(connection, path);
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

    /// <summary>Joins shard results into <paramref name="output"/> (created or extended); a job present in several inputs is kept once.</summary>
    /// <exception cref="PersonGenException">An input is missing or not a results database.</exception>
    public static void Merge(IEnumerable<string> inputs, string output)
    {
        using var merged = Open(output);
        foreach (string input in inputs)
        {
            if (!File.Exists(input)) throw new PersonGenException($"shard results '{input}' not found: pass the results.shard-*.sqlite files to merge");
            using var shard = Open(input);
            merged.Append(shard.ReadAll());
        }
    }

    public void Dispose() => _connection.Dispose();

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
