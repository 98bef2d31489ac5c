// Instance mode: the sketch lives in a closure, no globals.
new p5((p) => {
  p.setup = () => {
    p.createCanvas(640, 480);
    p.randomSeed(7);
    p.noLoop();
  };
  p.draw = () => {
    p.background(250, 245, 235);
    p.noFill();
    for (let i = 0; i < 40; i++) {
      p.stroke(p.random(255), p.random(80, 160), p.random(120, 255), 180);
      p.strokeWeight(p.random(1, 6));
      p.circle(p.width / 2 + p.random(-60, 60), p.height / 2 + p.random(-40, 40), p.random(40, 420));
    }
  };
});
