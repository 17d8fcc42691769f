namespace PersonGen;

/// <summary>
/// A failure the user can act on. <see cref="Exception.Message"/> is one line that names the thing that is
/// wrong and how to fix it; the CLI prints it as is (exit code 1).
/// </summary>
public class PersonGenException : Exception
{
    public PersonGenException(string message) : base(message) { }
    public PersonGenException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A checkpoint file (safetensors, pickle) that is missing, malformed or holds something we refuse to read.</summary>
public sealed class InvalidCheckpointException : PersonGenException
{
    public InvalidCheckpointException(string path, string problem)
        : base($"{path}: {problem}") { Path = path; Problem = problem; }

    public string Path { get; }
    public string Problem { get; }
}

/// <summary>A model folder, config or state dict that does not match what the code expects.</summary>
public sealed class ModelLoadException : PersonGenException
{
    public ModelLoadException(string message) : base(message) { }
    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>An output path that cannot be written (a file in the way, no permission, too long).</summary>
public sealed class OutputPathException : PersonGenException
{
    public OutputPathException(string path, string problem, Exception inner)
        : base($"{path}: {problem}", inner) { Path = path; }

    public string Path { get; }
}

/// <summary>User input (a prompt, a strategy spec, an option value, a file) that cannot be used as given.</summary>
public sealed class InvalidInputException : PersonGenException
{
    public InvalidInputException(string message) : base(message) { }
}
