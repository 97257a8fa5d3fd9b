using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Parley.Cli.Chat;

/// <summary>
/// A line-oriented terminal: output scrolls above, one prompt line at the bottom keeps what the user is typing.
/// Output from other threads (incoming messages) erases the prompt line, prints, and draws the prompt again, so it
/// needs nothing but carriage return and erase-line; the prompt never wraps, so an 80-column terminal is enough.
/// When input or output is not a terminal, lines are read and written plainly.
/// </summary>
internal sealed class ChatTerminal
{
    private readonly IAnsiConsole _console;
    private readonly TextWriter _writer;
    private readonly TextReader? _lines;
    private readonly Lock _lock = new();
    private readonly StringBuilder _input = new();
    private readonly List<string> _history = [];
    private int _historyIndex;
    private string _prompt = "> ";
    private bool _promptShown;

    public ChatTerminal(CliContext context)
    {
        var interactive = context.In is null && !Console.IsInputRedirected && !Console.IsOutputRedirected;
        _writer = context.Out;
        _console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(context.Out),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        _lines = interactive ? null : context.In ?? Console.In;
    }

    /// <summary>Prints markup (user text must be escaped with <see cref="Markup.Escape"/>) on its own line.</summary>
    public void Line(string markup) => Write(new Markup(markup + Environment.NewLine));

    /// <summary>Prints anything Spectre.Console renders (a table, a rule) above the prompt.</summary>
    public void Write(IRenderable renderable)
    {
        lock (_lock)
        {
            ErasePrompt();
            _console.Write(renderable);
            DrawPrompt();
        }
    }

    /// <summary>The prompt's text (plain, not markup): the connection state and the current conversation.</summary>
    public void SetPrompt(string prompt)
    {
        lock (_lock)
        {
            ErasePrompt();
            _prompt = prompt;
            DrawPrompt();
        }
    }

    /// <summary>The next line the user enters; null at the end of input (Ctrl+D on an empty line).</summary>
    public async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        if (_lines is not null) return await _lines.ReadLineAsync(ct).ConfigureAwait(false);
        lock (_lock) DrawPrompt();
        while (true)
        {
            // Polling keeps the wait cancellable (Ctrl+C), which a blocking ReadKey is not.
            while (!Console.KeyAvailable) await Task.Delay(20, ct).ConfigureAwait(false);
            var key = Console.ReadKey(intercept: true);
            lock (_lock)
            {
                if (Edit(key, out var line)) return line;
            }
        }
    }

    // Applies one key to the input line; true with the line on Enter, true with null on Ctrl+D on an empty line.
    private bool Edit(ConsoleKeyInfo key, out string? line)
    {
        line = null;
        switch (key.Key)
        {
            case ConsoleKey.Enter:
                line = _input.ToString();
                _input.Clear();
                ErasePrompt();
                if (line.Length > 0) _history.Add(line);
                _historyIndex = _history.Count;
                return true;
            case ConsoleKey.Backspace:
                if (_input.Length > 0) _input.Length--;
                break;
            case ConsoleKey.Escape:
                _input.Clear();
                break;
            case ConsoleKey.UpArrow when _historyIndex > 0:
                _input.Clear().Append(_history[--_historyIndex]);
                break;
            case ConsoleKey.DownArrow when _historyIndex < _history.Count:
                _historyIndex++;
                _input.Clear().Append(_historyIndex < _history.Count ? _history[_historyIndex] : "");
                break;
            default:
                if (key.Modifiers.HasFlag(ConsoleModifiers.Control) && key.Key == ConsoleKey.D && _input.Length == 0)
                {
                    ErasePrompt();
                    return true;
                }
                if (key.Modifiers.HasFlag(ConsoleModifiers.Control) && key.Key == ConsoleKey.U) _input.Clear();
                else if (!char.IsControl(key.KeyChar)) _input.Append(key.KeyChar);
                break;
        }
        ErasePrompt();
        DrawPrompt();
        return false;
    }

    private void ErasePrompt()
    {
        if (!_promptShown) return;
        _writer.Write("\r\u001b[2K");
        _promptShown = false;
    }

    private void DrawPrompt()
    {
        if (_lines is not null || _promptShown) return;
        // The tail of the input that fits: the prompt line must never wrap, or erasing it would leave a piece behind.
        var room = Math.Max(10, _console.Profile.Width - _prompt.Length - 2);
        var visible = _input.Length <= room ? _input.ToString() : "…" + _input.ToString(_input.Length - room + 1, room - 1);
        _console.Write(new Text(_prompt, new Style(decoration: Decoration.Bold)));
        _writer.Write(visible);
        _writer.Flush();
        _promptShown = true;
    }
}
