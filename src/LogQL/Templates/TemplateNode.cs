using System.Text;

namespace LokiSharp.LogQL.Templates;

/// <summary>A node of a parsed Go template; <see cref="Pos"/> is the byte offset in the template text.</summary>
internal abstract class TemplateNode(int pos)
{
    public int Pos { get; } = pos;

    public abstract void WriteTo(StringBuilder sb);

    public override string ToString()
    {
        var sb = new StringBuilder();
        WriteTo(sb);
        return sb.ToString();
    }
}

internal sealed class ListNode(int pos) : TemplateNode(pos)
{
    public List<TemplateNode> Nodes { get; } = [];

    public override void WriteTo(StringBuilder sb)
    {
        foreach (var n in Nodes)
        {
            n.WriteTo(sb);
        }
    }
}

internal sealed class TextNode(int pos, string text) : TemplateNode(pos)
{
    public string Text { get; set; } = text;

    public override void WriteTo(StringBuilder sb) => sb.Append(Text);
}

internal sealed class ActionNode(int pos, PipeNode pipe) : TemplateNode(pos)
{
    public PipeNode Pipe { get; } = pipe;

    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("{{");
        Pipe.WriteTo(sb);
        sb.Append("}}");
    }
}

internal enum BranchKind
{
    If,
    Range,
    With,
}

internal sealed class BranchNode(int pos, BranchKind kind, PipeNode pipe, ListNode list, ListNode? elseList) : TemplateNode(pos)
{
    public BranchKind Kind { get; } = kind;

    public PipeNode Pipe { get; } = pipe;

    public ListNode List { get; } = list;

    public ListNode? Else { get; } = elseList;

    public override void WriteTo(StringBuilder sb)
    {
        sb.Append("{{").Append(Kind switch { BranchKind.If => "if", BranchKind.Range => "range", _ => "with" }).Append(' ');
        Pipe.WriteTo(sb);
        sb.Append("}}");
        List.WriteTo(sb);
        if (Else is not null)
        {
            sb.Append("{{else}}");
            Else.WriteTo(sb);
        }

        sb.Append("{{end}}");
    }
}

internal sealed class LoopControlNode(int pos, bool isBreak) : TemplateNode(pos)
{
    public bool IsBreak { get; } = isBreak;

    public override void WriteTo(StringBuilder sb) => sb.Append(IsBreak ? "{{break}}" : "{{continue}}");
}

internal sealed class PipeNode(int pos) : TemplateNode(pos)
{
    public List<string> Declarations { get; } = [];

    public bool IsAssign { get; set; }

    public List<CommandNode> Commands { get; } = [];

    public override void WriteTo(StringBuilder sb)
    {
        if (Declarations.Count > 0)
        {
            sb.AppendJoin(", ", Declarations).Append(IsAssign ? " = " : " := ");
        }

        for (var i = 0; i < Commands.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(" | ");
            }

            Commands[i].WriteTo(sb);
        }
    }
}

internal sealed class CommandNode(int pos) : TemplateNode(pos)
{
    public List<TemplateNode> Args { get; } = [];

    public override void WriteTo(StringBuilder sb)
    {
        for (var i = 0; i < Args.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(' ');
            }

            if (Args[i] is PipeNode)
            {
                sb.Append('(');
                Args[i].WriteTo(sb);
                sb.Append(')');
            }
            else
            {
                Args[i].WriteTo(sb);
            }
        }
    }
}

internal sealed class FieldNode(int pos, string[] idents) : TemplateNode(pos)
{
    public string[] Idents { get; } = idents;

    public override void WriteTo(StringBuilder sb)
    {
        foreach (var i in Idents)
        {
            sb.Append('.').Append(i);
        }
    }
}

internal sealed class VariableNode(int pos, string[] idents) : TemplateNode(pos)
{
    public string[] Idents { get; } = idents;

    public override void WriteTo(StringBuilder sb) => sb.AppendJoin('.', Idents);
}

internal sealed class ChainNode(int pos, TemplateNode node, string[] fields) : TemplateNode(pos)
{
    public TemplateNode Node { get; } = node;

    public string[] Fields { get; } = fields;

    public override void WriteTo(StringBuilder sb)
    {
        if (Node is PipeNode)
        {
            sb.Append('(');
            Node.WriteTo(sb);
            sb.Append(')');
        }
        else
        {
            Node.WriteTo(sb);
        }

        foreach (var f in Fields)
        {
            sb.Append('.').Append(f);
        }
    }
}

internal sealed class IdentifierNode(int pos, string name) : TemplateNode(pos)
{
    public string Name { get; } = name;

    public override void WriteTo(StringBuilder sb) => sb.Append(Name);
}

internal sealed class DotNode(int pos) : TemplateNode(pos)
{
    public override void WriteTo(StringBuilder sb) => sb.Append('.');
}

internal sealed class NilNode(int pos) : TemplateNode(pos)
{
    public override void WriteTo(StringBuilder sb) => sb.Append("nil");
}

internal sealed class BoolNode(int pos, bool value) : TemplateNode(pos)
{
    public bool Value { get; } = value;

    public override void WriteTo(StringBuilder sb) => sb.Append(Value ? "true" : "false");
}

internal sealed class NumberNode(int pos, string text, long? integer, double? floating) : TemplateNode(pos)
{
    public string Text { get; } = text;

    public long? Integer { get; } = integer;

    public double? Float { get; } = floating;

    public override void WriteTo(StringBuilder sb) => sb.Append(Text);
}

internal sealed class StringNode(int pos, string quoted, string text) : TemplateNode(pos)
{
    public string Quoted { get; } = quoted;

    public string Text { get; } = text;

    public override void WriteTo(StringBuilder sb) => sb.Append(Quoted);
}
