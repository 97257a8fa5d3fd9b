using System.CommandLine;

namespace Parley.Cli.Chat;

/// <summary>`parley chat`: an interactive terminal client on Parley.Client (see <see cref="ChatSession"/>).</summary>
internal sealed class ChatCommand(CliContext context)
{
    public Command Build()
    {
        var account = new ClientAccount(context);
        var chat = new Command("chat", "Chat in the terminal: roster, conversations with archive history, rooms (type /help inside)");
        account.AddTo(chat);
        chat.SetAction(async (parse, ct) =>
        {
            var options = await account.ResolveAsync(parse, ct).ConfigureAwait(false);
            var session = new ChatSession(options, new ChatTerminal(context));
            return await session.RunAsync(ct).ConfigureAwait(false);
        });
        return chat;
    }
}
