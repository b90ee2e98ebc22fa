using LokiSharp.Server.Configuration;

namespace LokiSharp.Server.Tests;

public sealed class CommandLineFlagsTests
{
    [Fact]
    public void Both_dash_styles_and_separate_values_are_accepted()
    {
        var flags = CommandLineFlags.Parse(["--config.file=/etc/loki/loki.yaml", "-config.expand-env=true", "-log.level", "debug", "-verify-config"]);

        Assert.Equal("/etc/loki/loki.yaml", flags.ConfigFile);
        Assert.True(flags.ExpandEnv);
        Assert.True(flags.VerifyConfig);
        var config = new LokiConfig();
        flags.ApplyTo(config);
        Assert.Equal("debug", config.Server.LogLevel);
    }

    [Fact]
    public void Flags_override_the_file()
    {
        var flags = CommandLineFlags.Parse(["-server.http-listen-port=4100", "-server.grpc-listen-port=9400", "-log.format=json", "-target=all"]);

        var config = ConfigLoader.LoadText(ConfigLoaderTests.MinimalSchema + "server:\n  http_listen_port: 3100\n  grpc_listen_port: 9096\n", "f.yaml", false, flags.ApplyTo).Config;

        Assert.Equal(4100, config.Server.HttpListenPort);
        Assert.Equal(9400, config.Server.GrpcListenPort);
        Assert.Equal("json", config.Server.LogFormat);
    }

    [Fact]
    public void Flag_values_are_validated_like_file_values()
    {
        var flags = CommandLineFlags.Parse(["-target=index-gateway"]);

        var error = Assert.Throws<ConfigException>(() => ConfigLoader.LoadEmbeddedDefault(flags.ApplyTo));

        Assert.Contains("key target: target \"index-gateway\" is not supported by LokiSharp", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-server.http-listen-port=abc", "invalid value \"abc\" for flag -server.http-listen-port: parse error")]
    [InlineData("-verfy-config", "flag provided but not defined: -verfy-config")]
    [InlineData("-version=perhaps", "invalid boolean value \"perhaps\" for -version")]
    [InlineData("config.yaml", "unexpected argument \"config.yaml\"")]
    public void Bad_flags_are_reported_as_Go_reports_them(string arg, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => CommandLineFlags.Parse([arg]));

        Assert.Equal(expected, error.Message[..expected.Length]);
    }

    [Fact]
    public void Unimplemented_module_flags_are_accepted_and_listed()
    {
        var flags = CommandLineFlags.Parse(["-querier.max-concurrent=8", "-distributor.ring.store", "inmemory"]);

        Assert.Equal(["querier.max-concurrent", "distributor.ring.store"], flags.IgnoredFlags);
    }

    [Fact]
    public void A_value_flag_without_value_is_an_error()
    {
        var error = Assert.Throws<ConfigException>(() => CommandLineFlags.Parse(["-config.file"]));

        Assert.Equal("flag needs an argument: -config.file", error.Message);
    }
}
