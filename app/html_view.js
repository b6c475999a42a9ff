// svmac interactive view: the photo or frame with its 2D skeletons beside the 3D skeletons, which turn
// when dragged. Inlined by app/html_view.py into one offline page; it reads the poses from the page's
// JSON block and never touches the network. Text from the data is only ever set as textContent.
(function () {
  'use strict';

  const data = JSON.parse(document.getElementById('svmac-data').textContent);
  const view2d = document.getElementById('view2d');
  const view3d = document.getElementById('view3d');
  const slider = document.getElementById('frame-slider');
  const playButton = document.getElementById('play');
  const frameText = document.getElementById('frame-text');
  const viewText = document.getElementById('view-text');

  const DEG = Math.PI / 180;
  const DRAG_DEG_PER_PX = 0.5; // a 180 px drag turns the body a quarter turn
  const HEAD = 10;
  const state = { frame: 0, azimuth: 0, elevation: 0, zoom: 1, playing: false };

  // rows[t][f]: the row of track t holding clip frame f, -1 where the track is absent.
  const rows = data.tracks.map((track) => {
    const row = new Int32Array(data.num_frames).fill(-1);
    track.frames.forEach((frame, i) => { row[frame] = i; });
    return row;
  });

  const images = data.images.map((uri, frame) => {
    const image = new Image();
    image.onload = () => { if (frame === state.frame) draw2d(); };
    image.src = uri;
    return image;
  });

  function peopleAt(frame) {
    const people = [];
    data.tracks.forEach((track, t) => {
      const i = rows[t][frame];
      if (i < 0) return;
      people.push({ id: track.id, keypoints: track.keypoints[i], scores: track.scores[i], pose: track.pose[i] });
    });
    return people;
  }

  function isLow(score) {
    return score === null || score < data.min_score;
  }

  // Canvas backing store at the screen's pixel ratio; drawing code works in CSS pixels.
  function resize(canvas, width, height) {
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.cssWidth = width;
    canvas.cssHeight = height;
  }

  function context(canvas) {
    const ctx = canvas.getContext('2d');
    const ratio = canvas.width / canvas.cssWidth;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.setLineDash([]);
    return ctx;
  }

  function strokeBone(ctx, a, b, color, width, dashed) {
    ctx.setLineDash(dashed ? [2.5 * width, 1.6 * width] : []);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineCap = dashed ? 'butt' : 'round';
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
  }

  function markJoint(ctx, p, color, low, radius) {
    ctx.setLineDash([]);
    if (low) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(p[0] - radius, p[1] - radius);
      ctx.lineTo(p[0] + radius, p[1] + radius);
      ctx.moveTo(p[0] - radius, p[1] + radius);
      ctx.lineTo(p[0] + radius, p[1] - radius);
      ctx.stroke();
    } else {
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.arc(p[0], p[1], radius, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  function label(ctx, p, text) {
    ctx.font = '12px sans-serif';
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    const width = ctx.measureText(text).width + 6;
    ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
    ctx.fillRect(p[0] - width / 2, p[1] - 16, width, 15);
    ctx.fillStyle = '#222222';
    ctx.fillText(text, p[0], p[1] - 2);
  }

  function drawSkeleton(ctx, points, scores, width) {
    data.bones.forEach(([a, b], i) => {
      if (points[a] && points[b]) {
        strokeBone(ctx, points[a], points[b], data.bone_colors[i], width, isLow(scores[a]) || isLow(scores[b]));
      }
    });
    points.forEach((p, j) => { if (p) markJoint(ctx, p, data.joint_colors[j], isLow(scores[j]), width); });
  }

  function draw2d() {
    const ctx = context(view2d);
    const width = view2d.cssWidth;
    const height = view2d.cssHeight;
    const k = width / data.width;
    const image = images[state.frame];
    const imageReady = image !== undefined && image.complete && image.naturalWidth > 0;
    if (imageReady) {
      ctx.drawImage(image, 0, 0, width, height);
    } else {
      ctx.fillStyle = '#eeeeee';
      ctx.fillRect(0, 0, width, height);
    }
    for (const person of peopleAt(state.frame)) {
      const points = person.keypoints.map((p) => p && [p[0] * k, p[1] * k]);
      // A white halo keeps the coloured bones readable on any photo.
      data.bones.forEach(([a, b]) => {
        if (points[a] && points[b]) strokeBone(ctx, points[a], points[b], 'rgba(255, 255, 255, 0.8)', 5, false);
      });
      drawSkeleton(ctx, points, person.scores, 3);
      const top = points.filter((p) => p).reduce((best, p) => (p[1] < best[1] ? p : best), [0, Infinity]);
      if (top[1] < Infinity) label(ctx, [top[0], top[1] - 4], '#' + person.id);
    }
    // Marks which frame the panel shows once its picture is on it (or there is no picture).
    if (imageReady || data.images.length === 0) view2d.dataset.drawnFrame = String(state.frame);
  }

  // The same orthographic view as app/pose_style.project_view, centred on the frame's people.
  function projector(width, height) {
    const centre = data.view_centre[state.frame];
    const scale = state.zoom * 0.46 * Math.min(width, height) / data.radius;
    const ca = Math.cos(state.azimuth * DEG);
    const sa = Math.sin(state.azimuth * DEG);
    const ce = Math.cos(state.elevation * DEG);
    const se = Math.sin(state.elevation * DEG);
    return (p) => {
      const x = p[0] - centre[0];
      const up = centre[1] - p[1];
      const z = p[2] - centre[2];
      const u = x * ca + z * sa;
      const flat = -x * sa + z * ca;
      const v = up * ce + flat * se;
      return [width / 2 + u * scale, height / 2 - v * scale, flat * ce - up * se];
    };
  }

  function drawFloor(ctx, project) {
    if (data.floor_y === null) return;
    const centre = data.view_centre[state.frame];
    const r = data.radius;
    const step = data.grid_mm;
    const y = data.floor_y;
    ctx.strokeStyle = '#d4d4d4';
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    ctx.beginPath();
    // Lines fixed in the camera frame, so a person walking moves over them.
    for (let x = Math.ceil((centre[0] - r) / step) * step; x <= centre[0] + r; x += step) {
      const a = project([x, y, centre[2] - r]);
      const b = project([x, y, centre[2] + r]);
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
    }
    for (let z = Math.ceil((centre[2] - r) / step) * step; z <= centre[2] + r; z += step) {
      const a = project([centre[0] - r, y, z]);
      const b = project([centre[0] + r, y, z]);
      ctx.moveTo(a[0], a[1]);
      ctx.lineTo(b[0], b[1]);
    }
    ctx.stroke();
  }

  function draw3d() {
    const ctx = context(view3d);
    const width = view3d.cssWidth;
    const height = view3d.cssHeight;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    const project = projector(width, height);
    drawFloor(ctx, project);
    // Far people first, so nearer ones are drawn over them.
    const people = peopleAt(state.frame).map((person) => {
      const points = person.pose.map((p) => p && project(p));
      const depths = points.filter((p) => p).map((p) => p[2]);
      const depth = depths.length ? depths.reduce((s, d) => s + d, 0) / depths.length : 0;
      return { id: person.id, points: points, scores: person.scores, depth: depth };
    });
    people.sort((a, b) => b.depth - a.depth);
    for (const person of people) {
      // Within a person, far bones first.
      const seen = (i) => person.points[data.bones[i][0]] && person.points[data.bones[i][1]];
      const order = data.bones.map((bone, i) => i).filter(seen);
      const boneDepth = (i) => person.points[data.bones[i][0]][2] + person.points[data.bones[i][1]][2];
      order.sort((i, j) => boneDepth(j) - boneDepth(i));
      for (const i of order) {
        const [a, b] = data.bones[i];
        const dashed = isLow(person.scores[a]) || isLow(person.scores[b]);
        strokeBone(ctx, person.points[a], person.points[b], data.bone_colors[i], 3, dashed);
      }
      person.points.forEach((p, j) => { if (p) markJoint(ctx, p, data.joint_colors[j], isLow(person.scores[j]), 3); });
      const head = person.points[HEAD];
      if (head && data.tracks.length > 1) label(ctx, [head[0], head[1] - 6], '#' + person.id);
    }
    viewText.textContent =
      'azimuth ' + Math.round(state.azimuth) + '\u00b0, elevation ' + Math.round(state.elevation) + '\u00b0';
  }

  function showFrame(frame) {
    state.frame = Math.max(0, Math.min(data.num_frames - 1, frame));
    slider.value = String(state.frame);
    const seconds = data.fps ? ' \u00b7 ' + (state.frame / data.fps).toFixed(2) + ' s' : '';
    frameText.textContent = 'frame ' + (state.frame + 1) + ' / ' + data.num_frames + seconds;
    draw2d();
    draw3d();
  }

  // Playback follows the clock, not the display rate: frames are skipped rather than slowed down.
  let playStart = 0;
  let playFrom = 0;
  function tick(now) {
    if (!state.playing) return;
    const frame = (playFrom + Math.floor(((now - playStart) / 1000) * (data.fps || 10))) % data.num_frames;
    if (frame !== state.frame) showFrame(frame);
    window.requestAnimationFrame(tick);
  }
  function setPlaying(playing) {
    state.playing = playing;
    playButton.textContent = playing ? 'pause' : 'play';
    if (playing) {
      playStart = performance.now();
      playFrom = state.frame === data.num_frames - 1 ? 0 : state.frame;
      window.requestAnimationFrame(tick);
    }
  }

  function turnTo(azimuth, elevation) {
    state.azimuth = ((((azimuth + 180) % 360) + 360) % 360) - 180;
    state.elevation = Math.max(-89, Math.min(89, elevation));
    draw3d();
  }

  // Dragging grabs the body: drag right and its front turns right; drag down and its top tips towards you.
  let drag = null;
  view3d.addEventListener('pointerdown', (event) => {
    drag = { x: event.clientX, y: event.clientY, azimuth: state.azimuth, elevation: state.elevation };
    view3d.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  view3d.addEventListener('pointermove', (event) => {
    if (drag === null) return;
    turnTo(drag.azimuth - (event.clientX - drag.x) * DRAG_DEG_PER_PX,
      drag.elevation + (event.clientY - drag.y) * DRAG_DEG_PER_PX);
  });
  const endDrag = () => { drag = null; };
  view3d.addEventListener('pointerup', endDrag);
  view3d.addEventListener('pointercancel', endDrag);
  view3d.addEventListener('wheel', (event) => {
    event.preventDefault();
    state.zoom = Math.max(0.25, Math.min(8, state.zoom * Math.exp(-event.deltaY * 0.0015)));
    draw3d();
  }, { passive: false });
  const cameraView = () => { state.zoom = 1; turnTo(0, 0); };
  view3d.addEventListener('dblclick', cameraView);
  document.getElementById('reset-view').addEventListener('click', cameraView);

  slider.max = String(data.num_frames - 1);
  slider.addEventListener('input', () => { setPlaying(false); showFrame(Number(slider.value)); });
  playButton.addEventListener('click', () => setPlaying(!state.playing));
  document.addEventListener('keydown', (event) => {
    if (data.num_frames < 2 || event.target === slider || event.target.tagName === 'BUTTON') return;
    if (event.key === ' ') {
      event.preventDefault();
      setPlaying(!state.playing);
    } else if (event.key === 'ArrowRight' || event.key === 'ArrowLeft') {
      setPlaying(false);
      showFrame(state.frame + (event.key === 'ArrowRight' ? 1 : -1));
    }
  });
  document.getElementById('clip-controls').hidden = data.num_frames < 2;

  function layout() {
    const panel = Math.max(200, Math.min(480, window.innerHeight - 170));
    let width = (panel * data.width) / data.height;
    let height = panel;
    const room = Math.max(200, window.innerWidth - panel - 60);
    if (width > room) {
      height = (height * room) / width;
      width = room;
    }
    resize(view2d, Math.round(width), Math.round(height));
    resize(view3d, panel, panel);
    showFrame(state.frame);
  }
  window.addEventListener('resize', layout);
  layout();
})();
