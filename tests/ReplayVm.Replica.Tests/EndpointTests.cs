using System.Net;
using ReplayVm.Replica.Wire;

namespace ReplayVm.Replica.Tests;

/// <summary>
/// <see cref="Endpoint.Ipv4"/> reads a host in plain dotted decimal as the address .NET's parser
/// makes of it, and leaves every other spelling (names, IPv6, octal or short forms) to .NET.
/// </summary>
public sealed class EndpointTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("10.215.0.2")]
    [InlineData("192.168.100.9")]
    [InlineData("1.20.255.0")]
    public void A_dotted_decimal_host_is_the_address_dotnet_parses(string host)
    {
        var address = new Endpoint(host, 7400).Ipv4;
        Assert.NotNull(address);
        Assert.Equal(IPAddress.Parse(host), address);
        Assert.Equal(host, address.ToString());
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("::1")]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.300")]
    [InlineData("1000.0.0.1")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1..2.3")]
    [InlineData(".1.2.3")]
    [InlineData("1.2.3.")]
    [InlineData("01.2.3.4")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("127.1")]
    [InlineData("1.2.3.4 ")]
    [InlineData("")]
    public void Any_other_spelling_is_left_to_dotnet(string host) => Assert.Null(new Endpoint(host, 7400).Ipv4);
}
