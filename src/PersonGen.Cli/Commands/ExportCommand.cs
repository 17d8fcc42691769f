using System.CommandLine;
using PersonGen.Diffusion;
using PersonGen.Training;
using PersonGen.Training.Formats;

namespace PersonGen.Cli.Commands;

/// <summary>
/// <c>persongen export</c>: writes a concept in another tool's layout (kohya/A1111 or diffusers LoRA, PEFT, A1111
/// embedding), so a concept trained here loads in A1111, ComfyUI or kohya's scripts.
/// </summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var concept = new Option<string>("--concept") { Description = "Concept file (persongen train output, or another tool's LoRA/embedding); FILE:0.8 folds a LoRA multiplier in.", Required = true };
        var format = new Option<string>("--format") { Description = "kohya | peft | diffusers (LoRA), a1111 (token embedding; .pt out → pickle, else safetensors).", Required = true };
        format.AcceptOnlyFromAmong([.. ConceptExport.Formats]);
        var output = new Option<string>("--out") { Description = "File to write.", Required = true, HelpName = "FILE" };
        var model = new Option<string?>("--model") { Description = "Base model: needed only to read a kohya LoRA (its names are resolved against the model's modules)." };
        var command = new Command("export", "Write a concept in the layout of kohya, A1111, ComfyUI, PEFT or diffusers.") { concept, format, output, model };
        command.SetAction(parseResult =>
        {
            var console = parseResult.InvocationConfiguration.Output;
            using var checkpoint = ConceptCheckpoint.Load(parseResult.GetValue(concept)!);
            using var baseModel = parseResult.GetValue(model) is { } folder ? StableDiffusionModel.Load(folder, GlobalOptions.Compute(parseResult)) : null;
            var modules = baseModel is null ? null : new ConceptModel(baseModel.Unet, baseModel.TextEncoder);
            string target = parseResult.GetValue(output)!;
            ConceptExport.Write(checkpoint, parseResult.GetValue(format)!, target, modules);
            if (checkpoint.Method == "custom-diffusion")
                console.WriteLine("note: an A1111 embedding holds the token rows only; the Custom Diffusion k/v weights are not in it");
            console.WriteLine($"wrote {target} ({parseResult.GetValue(format)})");
            return CliApp.Success;
        });
        return command;
    }
}
